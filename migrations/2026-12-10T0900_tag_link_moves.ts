import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: (un)linking a tag no longer moves the file's downloads between the tag's rollups in
// the same statement. It records the move in `tag_link_moves` (file, tag, +1 or -1), and
// `fold_tag_link_moves` applies the recorded moves later, in transactions of their own: before
// any read of the tags' rollups (stats.service.ts), and within seconds in the background
// (server.ts). Trashing 1,000 files of the bench library rewrote ~6,000 day rows and ~12,000 hour
// rows of their tags' rollups inside the request (the unlink took 176 of a ~220 ms request); it
// now writes 2,600 small rows, and the request takes ~110–150 ms.
//
// `files` also gets a fillfactor of 85: a change that touches no indexed column (a retag bumps
// only `updated_at`) can then stay in its page as a HOT update instead of writing an entry in
// each of the table's 13 indexes. It applies to pages written from now on.
//
// What stays exact, and how. A tag's rollups always hold, for each file, the file's downloads
// times the link's *folded* weight: 1 while the link exists and its moves are folded, 0 once it is
// gone and folded, and in between the link's state minus the net of its pending moves
// (`tag_link_weights`). Every download trigger adds or subtracts its rows by those weights instead
// of by the links as they are, so a download of a file whose new tag is not folded yet is left to
// the fold, which adds the file's rollups as they are then. The fold locks the files' rows (and
// trashed rows) first, as every download, retag, trash and restore does: with those locks no
// download of the file can be half-counted, and the statement after them sees every one that
// committed. SQLite keeps its row triggers, which move a link's downloads at once (cheap there).
// `down` folds what is left and puts the link triggers back to moving at once.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * How the download triggers find the tags a download counts toward: `folded` (from now on) by the
 * links' folded weights, `immediate` (before, and after `down`) by the links as they are.
 */
export type Mode = 'folded' | 'immediate';

/** The rows of a downloads transition table `c` with the tags `l` they count toward, `l.w` each. */
const tagsOf = (changed: string, mode: Mode) =>
  mode === 'folded'
    ? `${changed} c join tag_link_weights(array(select distinct file_id from ${changed}
      where file_id is not null)) l on l.file_id = c.file_id`
    : `${changed} c join (select file_id, tag_id, 1 as w from file_tags) l on l.file_id = c.file_id`;

/** The rollup keys of a downloads transition table, each with its weight times `sign`. */
const rollupKeys = (changed: string, day: boolean, sign: string, mode: Mode) => {
  const at = day ? `, c.at - c.at % ${DAY_MS}` : '';
  return `
  select 'file' as kind, c.file_id as id${day ? `${at} as day` : ''}, ${sign} as w
    from ${changed} c where c.file_id is not null
  union all
  select 'user', c.user_id${at}, ${sign} from ${changed} c where c.user_id is not null
  union all
  select 'tag', l.tag_id${at}, ${sign} * l.w from ${tagsOf(changed, mode)}`;
};

/** Upserts the summed weights of `keys` (rollup keys) into download_days and download_totals. */
const rollups = (keys: (day: boolean) => string) => `
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, sum(w) from (${keys(true)}) x
      group by kind, id, day having sum(w) <> 0 order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, sum(w) from (${keys(false)}) x
      group by kind, id having sum(w) <> 0 order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`;

/** Upserts the tags' hours of a downloads transition table, weighted, times `sign`. */
const tagHours = (changed: string, sign: string, mode: Mode) => `
    insert into download_tag_hours (hour, tag_id, downloads)
      select c.at - c.at % ${HOUR_MS}, l.tag_id, ${sign} * sum(l.w) from ${tagsOf(changed, mode)}
      group by 1, 2 having sum(l.w) <> 0 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads;`;

/**
 * Moves files' downloads into or out of tags: `links` is a FROM item `n (file_id, tag_id, w)`,
 * each file's rollups times `w` going to the tag's days and total (`days`) and hours (`hours`).
 * The fold's work, and (for `down`) the link triggers' as they were.
 */
const moveLinks = {
  days: (links: string) => `
    insert into download_days (kind, id, day, downloads)
      select 'tag', n.tag_id, d.day, sum(n.w * d.downloads) from ${links}
      join download_days d on d.kind = 'file' and d.id = n.file_id
      group by n.tag_id, d.day having sum(n.w * d.downloads) <> 0 order by n.tag_id, d.day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select 'tag', n.tag_id, sum(n.w * t.downloads) from ${links}
      join download_totals t on t.kind = 'file' and t.id = n.file_id
      group by n.tag_id having sum(n.w * t.downloads) <> 0 order by n.tag_id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`,
  hours: (links: string) => `
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % ${HOUR_MS}, n.tag_id, sum(n.w) from ${links}
      join downloads d on d.file_id = n.file_id
      group by 1, 2 having sum(n.w) <> 0 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads;`,
};

/** The fold's net moves, from the arrays it gathers them in. */
const NET = 'unnest(net_files, net_tags, net_weights) as n (file_id, tag_id, w)';

/** The link triggers that moved the hours at once, dropped by `up` and put back by `down`. */
const HOUR_LINK_TRIGGERS = [
  ['download_tag_hours_link', 'insert', 'new table as linked', 'linked', 1],
  ['download_tag_hours_unlink', 'delete', 'old table as unlinked', 'unlinked', -1],
] as const;

/**
 * The bodies of the trigger functions on `downloads` and `file_tags` in either mode (also read by
 * 2026-12-11T0900_download_triggers_fast_path, which picks between the two per statement).
 */
export function triggerBodies(mode: Mode): Record<string, string> {
  const link = (table: 'linked' | 'unlinked', sign: 1 | -1) =>
    mode === 'folded'
      ? `
    insert into tag_link_moves (file_id, tag_id, sign) select file_id, tag_id, ${sign} from ${table};`
      : moveLinks.days(`(select file_id, tag_id, ${sign} as w from ${table}) n`);
  return {
    download_rollups_insert: rollups((day) => rollupKeys('inserted', day, '1', mode)),
    download_rollups_delete: rollups((day) => rollupKeys('removed', day, '-1', mode)),
    // An update applies the net change per key once (keys that cancel out are skipped).
    download_rollups_update: rollups(
      (day) =>
        `${rollupKeys('removed', day, '-1', mode)} union all ${rollupKeys('inserted', day, '1', mode)}`,
    ),
    download_tag_hours_insert: tagHours('inserted', '1', mode),
    download_tag_hours_delete: tagHours('removed', '-1', mode),
    download_tag_hours_update: tagHours('removed', '-1', mode) + tagHours('inserted', '1', mode),
    download_rollups_link: link('linked', 1),
    download_rollups_unlink: link('unlinked', -1),
  };
}

async function replaceTriggerBodies(db: Db, mode: Mode) {
  for (const [fn, body] of Object.entries(triggerBodies(mode))) {
    await sql`
      create or replace function ${sql.id(fn)}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
  }
}

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`
    create table tag_link_moves (
      seq bigint generated always as identity primary key,
      file_id integer not null,
      tag_id integer not null,
      sign smallint not null check (sign in (-1, 1))
    )`.execute(db);
  await sql`create index tag_link_moves_file on tag_link_moves (file_id)`.execute(db);
  await sql`alter table files set (fillfactor = 85)`.execute(db);
  // The links of `ids` as the tags' rollups count them: a link's state minus the net of its
  // moves not folded yet. Stable: it reads with the snapshot of the statement that calls it.
  await sql`
    create function tag_link_weights(ids integer[])
      returns table (file_id integer, tag_id integer, w integer)
      language sql stable as $$
      select file_id, tag_id, sum(w)::integer from (
        select ft.file_id, ft.tag_id, 1 as w from file_tags ft where ft.file_id = any(ids)
        union all
        select m.file_id, m.tag_id, -m.sign from tag_link_moves m where m.file_id = any(ids)
      ) x group by file_id, tag_id having sum(w) <> 0
    $$`.execute(db);
  await replaceTriggerBodies(db, 'folded');
  // The fold moves the hours too.
  for (const [fn] of HOUR_LINK_TRIGGERS) {
    await sql`drop trigger ${sql.id(fn)} on file_tags`.execute(db);
    await sql`drop function ${sql.id(fn)}()`.execute(db);
  }
  // Folds the recorded moves of up to `max_files` files (the lowest ids first; all when null):
  // each file's net move per tag times the file's rollups as they are now, into the tag's days,
  // total and hours. Returns how many moves it folded. A bound on the files keeps its row locks
  // short beside the requests that want them.
  await sql`
    create function fold_tag_link_moves(max_files integer)
      returns integer language plpgsql as $$
    declare
      ids integer[];
      held integer[];
      net_files integer[];
      net_tags integer[];
      net_weights integer[];
      folded integer;
    begin
      select array_agg(file_id) into ids from (
        select distinct m.file_id from tag_link_moves m order by m.file_id limit max_files) f;
      if ids is null then return 0; end if;
      -- Lock order: the files' rows, then trashed rows, each in id order. A download updates its
      -- file's row before it writes, a retag or trash locks the rows it changes, a restore or
      -- purge locks the trashed row: while these are held, none of that is half done for these
      -- files, and the statements after them see every one that committed.
      select coalesce(array_agg(id), '{}') into held from (
        select id from files where id = any(ids) order by id for share) f;
      held := held || coalesce((select array_agg(id) from (
        select id from trashed_files where id = any(ids) order by id for share) t), '{}');
      -- A file restored while this waited for its trashed row has a files row that is not
      -- locked here: its moves wait for the next fold. One in neither table is purged: nothing
      -- counts toward it any more.
      with moved as (
        delete from tag_link_moves m where m.file_id = any(ids) and (m.file_id = any(held) or (
          not exists (select 1 from files f where f.id = m.file_id)
          and not exists (select 1 from trashed_files t where t.id = m.file_id)))
        returning m.file_id, m.tag_id, m.sign
      ), net as (
        select file_id, tag_id, sum(sign)::integer as w from moved group by file_id, tag_id
      )
      select (select count(*) from moved), array_agg(file_id), array_agg(tag_id), array_agg(w)
        into folded, net_files, net_tags, net_weights from net where w <> 0;
      ${sql.raw(
        Object.values(moveLinks)
          .map((move) => move(NET))
          .join(''),
      )}
      return folded;
    end $$`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select fold_tag_link_moves(null)`.execute(db);
  await replaceTriggerBodies(db, 'immediate');
  for (const [fn, event, transition, table, sign] of HOUR_LINK_TRIGGERS) {
    const body = moveLinks.hours(`(select file_id, tag_id, ${sign} as w from ${table}) n`);
    await sql`
      create function ${sql.id(fn)}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
    await sql`
      create trigger ${sql.id(fn)} after ${sql.raw(event)} on file_tags
        referencing ${sql.raw(transition)} for each statement execute function ${sql.id(fn)}()`.execute(
      db,
    );
  }
  await sql`drop function fold_tag_link_moves(integer)`.execute(db);
  await sql`drop function tag_link_weights(integer[])`.execute(db);
  await sql`drop table tag_link_moves`.execute(db);
  await sql`alter table files reset (fillfactor)`.execute(db);
}
