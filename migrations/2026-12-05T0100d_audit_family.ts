import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Audit filters that stay fast at any size (issue 16: auditEvents p95 < 50 ms at 1,000,000
// events), with an exact totalCount.
//
// Pages: a family filter (`user.`) was a range on `action`, so no index gave its events in time
// order and every page sorted all of them (~450 ms on SQLite at a million events). `family` (the
// action's part before the dot) is computed by the database from `action`, so no writer can get
// it wrong and existing events have it at once: a virtual column on SQLite (ALTER TABLE can add
// no stored one; its index stores the value), a stored one on PostgreSQL. With the indexes
// below, every filter shape finds its newest events in an index walk, with or without planner
// statistics.
//
// Counts: counting 300,000–1,000,000 index entries took 50–300 ms. `audit_days` holds the
// events per UTC day and action, in all (actor_id 0) and per actor, kept by triggers like the
// download rollups; a count sums the whole days of its range there and counts only the partial
// days at its ends in `audit_events` (modules/audit/audit.repository.ts). Invariant: for every
// actor_id (0: everyone), action and day, `events` is the number of such events now; rows at
// zero are removed.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const DAY_MS = 86_400_000;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  if (pg) {
    await sql`alter table audit_events add column family text
      generated always as (split_part(action, '.', 1)) stored`.execute(db);
  } else {
    // split_part's answer: the part before the first dot, the whole action without one.
    await sql`alter table audit_events add column family text
      generated always as (case when instr(action, '.') > 0
        then substr(action, 1, instr(action, '.') - 1) else action end) virtual`.execute(db);
  }
  await db.schema
    .createIndex('audit_events_family_at')
    .on('audit_events')
    .columns(['family', 'at', 'id'])
    .execute();
  // An actor's events by action or family. Partial, and led by the action: a query by actor
  // alone (or action alone) cannot use them, so the planner never prefers one of these and a
  // sort over audit_events_actor_at (or _action_at) when it has no statistics (SQLite without
  // ANALYZE did exactly that: 0.5 s for the busiest actor). Anonymous events never match an
  // actor filter, so they are left out.
  for (const column of ['action', 'family']) {
    await db.schema
      .createIndex(`audit_events_${column}_actor_at`)
      .on('audit_events')
      .columns([column, 'actor_id', 'at', 'id'])
      .where('actor_id', 'is not', null)
      .execute();
  }

  // A count sums up to one row per action and day of one actor_id: they must lie together. On
  // SQLite the primary key is the table (WITHOUT ROWID); on PostgreSQL, whose heap keeps rows in
  // the order they came, the key carries `events` for index-only sums (33 ms for the 7,500 rows
  // of a year read from the heap at a million events, under load; well under 1 ms from the key).
  await sql`
    create table audit_days (
      actor_id integer not null, action text not null, day bigint not null,
      events integer not null,
      primary key (actor_id, action, day) ${pg ? sql`include (events)` : sql``}
    ) ${pg ? sql`` : sql`without rowid`}`.execute(db);
  // Triggers first: on PostgreSQL creating them locks out writers until this migration commits,
  // so the backfill below sees every event that no trigger counts.
  if (pg) await pgTriggers(db);
  else await sqliteTriggers(db);
  const day = sql.raw(`at - at % ${DAY_MS}`);
  await sql`
    insert into audit_days (actor_id, action, day, events)
      select 0, action, ${day}, count(*) from audit_events group by action, ${day}`.execute(db);
  await sql`
    insert into audit_days (actor_id, action, day, events)
      select actor_id, action, ${day}, count(*) from audit_events where actor_id is not null
      group by actor_id, action, ${day}`.execute(db);
  if (pg) await sql`analyze audit_events, audit_days`.execute(db);
}

/** SQLite: row triggers, two primary-key upserts each. */
async function sqliteTriggers(db: Db) {
  const keys = (row: 'new' | 'old') => `
      select 0 as actor_id, ${row}.action as action, ${row}.at - ${row}.at % ${DAY_MS} as day
      union all
      select ${row}.actor_id, ${row}.action, ${row}.at - ${row}.at % ${DAY_MS}
        where ${row}.actor_id is not null`;
  const add = (row: 'new' | 'old') => `
    insert into audit_days (actor_id, action, day, events)
      select actor_id, action, day, 1 from (${keys(row)}) where true
      on conflict (actor_id, action, day) do update set events = events + 1;`;
  const remove = (row: 'new' | 'old') => `
    update audit_days set events = events - 1
      where (actor_id, action, day) in (${keys(row)});
    delete from audit_days
      where (actor_id, action, day) in (${keys(row)}) and events = 0;`;
  await sql`create trigger audit_days_insert after insert on audit_events
    begin ${sql.raw(add('new'))} end`.execute(db);
  await sql`create trigger audit_days_delete after delete on audit_events
    begin ${sql.raw(remove('old'))} end`.execute(db);
  // Events are never edited; should one ever be, its counts follow.
  await sql`create trigger audit_days_update after update of actor_id, action, at on audit_events
    begin ${sql.raw(remove('old') + add('new'))} end`.execute(db);
}

/**
 * PostgreSQL: statement triggers with transition tables, one grouped upsert per statement (a
 * retention batch of 5,000 deletions is one statement). Rows are changed in key order so
 * concurrent statements lock shared rows in the same order.
 */
async function pgTriggers(db: Db) {
  for (const [name, event, table, body] of [
    ['insert', 'insert', 'new table as inserted', pgApply(1, 'inserted')],
    ['delete', 'delete', 'old table as removed', pgApply(-1, 'removed')],
    [
      'update',
      'update',
      'old table as removed new table as inserted',
      pgApply(-1, 'removed') + pgApply(1, 'inserted'),
    ],
  ] as const) {
    const fn = sql.raw(`audit_days_${name}`);
    await sql`
      create function ${fn}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
    await sql`
      create trigger ${fn} after ${sql.raw(event)} on audit_events
        referencing ${sql.raw(table)} for each statement execute function ${fn}()`.execute(db);
  }
}

/** Adds (sign 1) or removes (-1) the events of a transition table. */
function pgApply(sign: 1 | -1, changed: string): string {
  const grouped = `
      select actor_id, action, day, count(*) as n from (
        select 0 as actor_id, c.action, c.at - c.at % ${DAY_MS} as day from ${changed} c
        union all
        select c.actor_id, c.action, c.at - c.at % ${DAY_MS} from ${changed} c
          where c.actor_id is not null
      ) x group by actor_id, action, day`;
  return `
    insert into audit_days (actor_id, action, day, events)
      select actor_id, action, day, ${sign} * n from (${grouped}) g
      order by actor_id, action, day
      on conflict (actor_id, action, day) do update set events = audit_days.events + excluded.events;
    ${
      sign < 0
        ? `delete from audit_days a using (${grouped}) g
      where a.actor_id = g.actor_id and a.action = g.action and a.day = g.day and a.events = 0;`
        : ''
    }`;
}

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) {
    for (const name of ['insert', 'delete', 'update']) {
      await sql`drop trigger ${sql.raw(`audit_days_${name}`)} on audit_events`.execute(db);
      await sql`drop function ${sql.raw(`audit_days_${name}`)}()`.execute(db);
    }
  } else {
    for (const name of ['insert', 'delete', 'update']) {
      await sql`drop trigger ${sql.raw(`audit_days_${name}`)}`.execute(db);
    }
  }
  await db.schema.dropTable('audit_days').execute();
  await db.schema.dropIndex('audit_events_family_actor_at').execute();
  await db.schema.dropIndex('audit_events_action_actor_at').execute();
  await db.schema.dropIndex('audit_events_family_at').execute();
  await db.schema.alterTable('audit_events').dropColumn('family').execute();
}
