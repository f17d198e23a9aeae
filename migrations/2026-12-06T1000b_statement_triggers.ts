import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: the row-level triggers on `files` and `trashed_files` that a bulk statement fires
// once per row (name-change log, search table, tag link activity, tag counters, file totals,
// upload counts, used bytes) become one statement-level trigger per event, reading the statement's
// transition tables and applying set-based aggregate updates: one `update … from (select … group
// by …)` per counter table whatever the number of rows. A request of 1,000 files ran each trigger
// body 1,000 times, each one or more index lookups and updates, and the link-activity trigger
// issued one `update file_tags` per file, which fired file_tags's own statement triggers per file.
//
// Every counter stays exact by construction: an update subtracts each changed row's old
// contribution and adds its new one (a row whose relevant columns did not change nets zero, and is
// filtered out only to save work). PostgreSQL forbids column lists (`after update of status`) and
// WHEN on triggers with transition tables, so the update trigger fires on every update of `files`
// and checks in its body which columns changed. The one hot single-row update, a download bumping
// a file's count, keeps a row trigger for its tags' download counts (cheaper by the row than the
// statement trigger's join); the statement trigger counts the rows whose status changed.
//
// The download rollup triggers (already statement-level) upserted every key they touched even
// when the net change was zero: an update of downloads subtracted and re-added the user's keys
// when only file_id moved, and an unlink after the trash had zeroed a file's rollups upserted
// zeros. Both now skip keys whose change sums to zero.
//
// `files_before_delete` stays a row trigger (BEFORE triggers have no transition tables; it must
// run while the file row still exists, since the link triggers read the file's status and
// download count). It now deletes only when the file has links: the bulk paths remove the links of
// all their files in one statement first, so each row costs one index probe instead of a DELETE
// firing three statement triggers.
//
// SQLite has no statement triggers and keeps its row triggers (every lookup in their bodies is an
// index search, EXPLAIN QUERY PLAN says). One of them did twice the work it needed:
// `download_rollups_update` subtracted and re-added every key of a download row, so moving a
// trashed file's downloads aside (only file_id changes) made twelve upserts a row, four of them
// for the user's keys that cancel out. It is split: file and tag keys move when file_id or at
// changes, user keys when user_id or at changes.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const nowMs = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * Applies per-user deltas to the counters of `users` (upload counts from `files` only, used bytes
 * from both tables). `rows` is a select of (uploaded_by, sign, status, size).
 */
const usersUpdate = (rows: string, uploads: boolean) => `
    update users u set
      ${uploads ? 'upload_count = u.upload_count + d.c, uploads_hidden = u.uploads_hidden + d.h,' : ''}
      used_bytes = u.used_bytes + d.b
    from (
      select uploaded_by as uid, sum(sign) as c,
        sum(case when status = 'HIDDEN' then sign else 0 end) as h, sum(sign * size) as b
      from (${rows}) r
      where uploaded_by is not null
      group by uploaded_by
    ) d
    where u.id = d.uid and (d.c <> 0 or d.h <> 0 or d.b <> 0);`;

/** The files rows of an update whose old and new versions differ in `cols`, with both. */
const changedWhere = (cols: string[]) =>
  cols.map((c) => `o.${c} is distinct from n.${c}`).join(' or ');

const filesInsert = sql.raw(`
  create function files_rows_insert() returns trigger language plpgsql as $$
  begin
    insert into file_name_changes (file_id, at) select id, ${nowMs} from inserted order by id;
    ${usersUpdate(`select uploaded_by, 1 as sign, status, size from inserted`, true)}
    return null;
  end $$`);

const filesDelete = sql.raw(`
  create function files_rows_delete() returns trigger language plpgsql as $$
  begin
    insert into file_name_changes (file_id, at) select id, ${nowMs} from removed order by id;
    ${usersUpdate(`select uploaded_by, -1 as sign, status, size from removed`, true)}
    return null;
  end $$`);

const pairs = `old_rows o join new_rows n on n.id = o.id`;

/** `statements` when some row of the update changed one of `cols`: most change none of them. */
const ifChanged = (cols: string[], statements: string) => `
    if exists (select 1 from ${pairs} where ${changedWhere(cols)}) then ${statements}
    end if;`;

const filesUpdate = sql.raw(`
  create function files_rows_update() returns trigger language plpgsql as $$
  begin
    ${ifChanged(
      ['name', 'status', 'uploaded_by'],
      `insert into file_name_changes (file_id, at)
        select n.id, ${nowMs} from ${pairs}
        where ${changedWhere(['name', 'status', 'uploaded_by'])} order by n.id;
      update file_search s set name_lower = lower(n.name), status = n.status,
          uploaded_by = n.uploaded_by
        from ${pairs}
        where s.id = n.id and (${changedWhere(['name', 'status', 'uploaded_by'])});`,
    )}
    ${ifChanged(
      ['status'],
      // One statement for every link of every file whose status changed (file_tags's own
      // statement triggers then fire once).
      `update file_tags l set active = (n.status = 'ACTIVE')::int
        from ${pairs}
        where l.file_id = n.id and o.status is distinct from n.status;
      update file_totals t set files = t.files + d.n
        from (
          select status, sum(sign) as n from (
            select n.status, 1 as sign from ${pairs} where o.status <> n.status
            union all
            select o.status, -1 from ${pairs} where o.status <> n.status
          ) x group by status
        ) d
        where t.status = d.status and d.n <> 0;`,
    )}
    ${ifChanged(
      ['status'],
      `update tags t set
          files_active = t.files_active + d.fa, files_hidden = t.files_hidden + d.fh,
          downloads_active = t.downloads_active + d.da, downloads_hidden = t.downloads_hidden + d.dh
        from (
          select l.tag_id,
            sum((n.status = 'ACTIVE')::int - (o.status = 'ACTIVE')::int) as fa,
            sum((n.status <> 'ACTIVE')::int - (o.status <> 'ACTIVE')::int) as fh,
            sum(case when n.status = 'ACTIVE' then n.download_count else 0 end
              - case when o.status = 'ACTIVE' then o.download_count else 0 end) as da,
            sum(case when n.status <> 'ACTIVE' then n.download_count else 0 end
              - case when o.status <> 'ACTIVE' then o.download_count else 0 end) as dh
          from ${pairs} join file_tags l on l.file_id = n.id
          where o.status is distinct from n.status
          group by l.tag_id
        ) d
        where t.id = d.tag_id and (d.fa <> 0 or d.fh <> 0 or d.da <> 0 or d.dh <> 0);`,
    )}
    ${ifChanged(
      ['status', 'uploaded_by', 'size'],
      usersUpdate(
        `select o.uploaded_by, -1 as sign, o.status, o.size from ${pairs}
            where ${changedWhere(['status', 'uploaded_by', 'size'])}
           union all
           select n.uploaded_by, 1, n.status, n.size from ${pairs}
            where ${changedWhere(['status', 'uploaded_by', 'size'])}`,
        true,
      ),
    )}
    return null;
  end $$`);

const trashedChange = sql.raw(`
  create function trashed_files_rows_change() returns trigger language plpgsql as $$
  begin
    if tg_op = 'INSERT' then
      ${usersUpdate(`select uploaded_by, 1 as sign, status, size from new_rows`, false)}
    elsif tg_op = 'DELETE' then
      ${usersUpdate(`select uploaded_by, -1 as sign, status, size from old_rows`, false)}
    else ${ifChanged(
      ['uploaded_by', 'size'],
      usersUpdate(
        `select o.uploaded_by, -1 as sign, o.status, o.size from ${pairs}
            where ${changedWhere(['uploaded_by', 'size'])}
           union all
           select n.uploaded_by, 1, n.status, n.size from ${pairs}
            where ${changedWhere(['uploaded_by', 'size'])}`,
        false,
      ),
    )}
    end if;
    return null;
  end $$`);

const DAY_MS = 86_400_000;

/** The download rollup keys of a downloads transition table (as migration 2026-12-03T0210). */
const rollupKeys = (changed: string, day: boolean, sign: string) => `
  select 'file' as kind, c.file_id as id${day ? `, c.at - c.at % ${DAY_MS} as day` : ''}, ${sign} as sign
    from ${changed} c where c.file_id is not null
  union all
  select 'user', c.user_id${day ? `, c.at - c.at % ${DAY_MS}` : ''}, ${sign}
    from ${changed} c where c.user_id is not null
  union all
  select 'tag', ft.tag_id${day ? `, c.at - c.at % ${DAY_MS}` : ''}, ${sign}
    from ${changed} c join file_tags ft on ft.file_id = c.file_id`;

/**
 * An update of downloads (moving a trashed file's downloads aside, or back) applies the net
 * change per key once: it subtracted every old row's keys and added every new row's, two upserts
 * per user and day that cancel out when only file_id changed. Keys in key order, as before.
 */
const rollupsUpdate = (net: boolean) =>
  net
    ? `
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, sum(sign) from (
        ${rollupKeys('removed', true, '-1')} union all ${rollupKeys('inserted', true, '1')}) x
      group by kind, id, day having sum(sign) <> 0 order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, sum(sign) from (
        ${rollupKeys('removed', false, '-1')} union all ${rollupKeys('inserted', false, '1')}) x
      group by kind, id having sum(sign) <> 0 order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`
    : (['removed', 'inserted'] as const)
        .map(
          (t) => `
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, sum(sign) from (${rollupKeys(t, true, t === 'removed' ? '-1' : '1')}) x
      group by kind, id, day order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, sum(sign) from (${rollupKeys(t, false, t === 'removed' ? '-1' : '1')}) x
      group by kind, id order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`,
        )
        .join('');

/**
 * (Un)linking tags adds or subtracts the files' rollups to the tags'. Moving files to the trash
 * zeroes their rollups first (their downloads move aside), so the unlink then upserted thousands
 * of zeros; a sum of zero is now left out (readers take rows of more than zero downloads).
 */
const rollupsLink = (sign: 1 | -1, links: string, skipZero: boolean) => `
    insert into download_days (kind, id, day, downloads)
      select 'tag', l.tag_id, d.day, ${sign} * sum(d.downloads) from ${links} l
      join download_days d on d.kind = 'file' and d.id = l.file_id
      group by l.tag_id, d.day ${skipZero ? 'having sum(d.downloads) <> 0' : ''}
      order by l.tag_id, d.day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select 'tag', l.tag_id, ${sign} * sum(t.downloads) from ${links} l
      join download_totals t on t.kind = 'file' and t.id = l.file_id
      group by l.tag_id ${skipZero ? 'having sum(t.downloads) <> 0' : ''} order by l.tag_id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads;`;

async function replaceRollups(db: Db, improved: boolean) {
  for (const [fn, body] of [
    ['download_rollups_update', rollupsUpdate(improved)],
    ['download_rollups_link', rollupsLink(1, 'linked', improved)],
    ['download_rollups_unlink', rollupsLink(-1, 'unlinked', improved)],
  ] as const) {
    await sql`
      create or replace function ${sql.id(fn)}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
  }
}

const OLD_FILES_TRIGGERS = [
  'file_name_changes_insert',
  'file_name_changes_update',
  'file_search_update',
  'files_links_active',
  'files_tag_counts',
  'files_upload_counts_insert',
  'files_upload_counts_delete',
  'files_upload_counts_update',
  'files_used_bytes_change',
  'files_used_bytes_update',
];

/** SQLite: the rows of one kind's keys of a download row, as in migration 2026-12-03T0210. */
function sqliteRollup(row: 'new' | 'old', sign: 1 | -1, kinds: 'file' | 'user' | 'both'): string {
  const day = `${row}.at - ${row}.at % ${DAY_MS}`;
  const parts = (withDay: boolean) =>
    [
      kinds !== 'user' &&
        `select 'file', ${row}.file_id${withDay ? `, ${day}` : ''}, ${sign} where ${row}.file_id is not null`,
      kinds !== 'file' &&
        `select 'user', ${row}.user_id${withDay ? `, ${day}` : ''}, ${sign} where ${row}.user_id is not null`,
      kinds !== 'user' &&
        `select 'tag', tag_id${withDay ? `, ${day}` : ''}, ${sign} from file_tags where file_id = ${row}.file_id`,
    ]
      .filter(Boolean)
      .join(' union all ');
  return `
    insert into download_days (kind, id, day, downloads) ${parts(true)}
      on conflict (kind, id, day) do update set downloads = downloads + ${sign};
    insert into download_totals (kind, id, downloads) ${parts(false)}
      on conflict (kind, id) do update set downloads = downloads + ${sign};`;
}

async function sqliteUp(db: Db) {
  await sql`drop trigger download_rollups_update`.execute(db);
  await sql`
    create trigger download_rollups_update after update of file_id, at on downloads
    when old.file_id is not new.file_id or old.at is not new.at
    begin ${sql.raw(sqliteRollup('old', -1, 'file') + sqliteRollup('new', 1, 'file'))} end`.execute(
    db,
  );
  await sql`
    create trigger download_rollups_update_user after update of user_id, at on downloads
    when old.user_id is not new.user_id or old.at is not new.at
    begin ${sql.raw(sqliteRollup('old', -1, 'user') + sqliteRollup('new', 1, 'user'))} end`.execute(
    db,
  );
}

async function sqliteDown(db: Db) {
  await sql`drop trigger download_rollups_update_user`.execute(db);
  await sql`drop trigger download_rollups_update`.execute(db);
  await sql`
    create trigger download_rollups_update after update of file_id, user_id, at on downloads
    begin ${sql.raw(sqliteRollup('old', -1, 'both') + sqliteRollup('new', 1, 'both'))} end`.execute(
    db,
  );
}

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return sqliteUp(db);
  for (const name of OLD_FILES_TRIGGERS)
    await sql`drop trigger ${sql.id(name)} on files`.execute(db);
  for (const name of ['trashed_files_used_bytes_change', 'trashed_files_used_bytes_update']) {
    await sql`drop trigger ${sql.id(name)} on trashed_files`.execute(db);
  }
  await filesInsert.execute(db);
  await filesDelete.execute(db);
  await filesUpdate.execute(db);
  await trashedChange.execute(db);
  await sql`
    create trigger files_rows_insert after insert on files
    referencing new table as inserted for each statement execute function files_rows_insert()`.execute(
    db,
  );
  await sql`
    create trigger files_rows_delete after delete on files
    referencing old table as removed for each statement execute function files_rows_delete()`.execute(
    db,
  );
  await sql`
    create trigger files_rows_update after update on files
    referencing old table as old_rows new table as new_rows
    for each statement execute function files_rows_update()`.execute(db);
  await sql`
    create trigger trashed_files_rows_insert after insert on trashed_files
    referencing new table as new_rows
    for each statement execute function trashed_files_rows_change()`.execute(db);
  await sql`
    create trigger trashed_files_rows_delete after delete on trashed_files
    referencing old table as old_rows
    for each statement execute function trashed_files_rows_change()`.execute(db);
  await sql`
    create trigger trashed_files_rows_update after update on trashed_files
    referencing old table as old_rows new table as new_rows
    for each statement execute function trashed_files_rows_change()`.execute(db);
  // A download changes one file's count at a time: its tags' counts by the row, as before (the
  // statement trigger takes the rows whose status changed, counts included).
  await sql`
    create trigger files_tag_downloads after update of download_count on files
    for each row when (old.status is not distinct from new.status
      and old.download_count is distinct from new.download_count)
    execute function files_tag_counts()`.execute(db);
  await sql`
    create or replace function files_before_delete() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from file_tags where file_id = old.id) then
        delete from file_tags where file_id = old.id;
      end if;
      return old;
    end $$`.execute(db);
  await replaceRollups(db, true);
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return sqliteDown(db);
  await replaceRollups(db, false);
  await sql`
    create or replace function files_before_delete() returns trigger language plpgsql as $$
    begin delete from file_tags where file_id = old.id; return old; end $$`.execute(db);
  for (const name of [
    'files_rows_insert',
    'files_rows_delete',
    'files_rows_update',
    'files_tag_downloads',
  ]) {
    await sql`drop trigger ${sql.id(name)} on files`.execute(db);
  }
  for (const name of ['insert', 'delete', 'update']) {
    await sql`drop trigger ${sql.id(`trashed_files_rows_${name}`)} on trashed_files`.execute(db);
  }
  for (const fn of [
    'files_rows_insert',
    'files_rows_delete',
    'files_rows_update',
    'trashed_files_rows_change',
  ]) {
    await sql`drop function ${sql.id(fn)}()`.execute(db);
  }
  // The row triggers as their migrations made them; their functions were never dropped.
  await sql`
    create trigger file_name_changes_insert after insert or delete on files
    for each row execute function file_name_changes_log()`.execute(db);
  await sql`
    create trigger file_name_changes_update after update of name, status, uploaded_by on files
    for each row when (old.name is distinct from new.name or old.status is distinct from new.status
      or old.uploaded_by is distinct from new.uploaded_by)
    execute function file_name_changes_log()`.execute(db);
  await sql`
    create trigger file_search_update after update of name, status, uploaded_by on files
    for each row when (old.name is distinct from new.name or old.status is distinct from new.status
      or old.uploaded_by is distinct from new.uploaded_by)
    execute function file_search_update()`.execute(db);
  await sql`
    create trigger files_links_active after update of status on files
    for each row when (old.status is distinct from new.status)
    execute function files_links_active()`.execute(db);
  await sql`
    create trigger files_tag_counts after update of status, download_count on files
    for each row when (old.status is distinct from new.status
      or old.download_count is distinct from new.download_count)
    execute function files_tag_counts()`.execute(db);
  await sql`
    create trigger files_upload_counts_insert after insert on files
    for each row execute function files_upload_counts()`.execute(db);
  await sql`
    create trigger files_upload_counts_delete after delete on files
    for each row execute function files_upload_counts()`.execute(db);
  await sql`
    create trigger files_upload_counts_update after update of status, uploaded_by on files
    for each row when (old.status is distinct from new.status
      or old.uploaded_by is distinct from new.uploaded_by)
    execute function files_upload_counts()`.execute(db);
  for (const table of ['files', 'trashed_files']) {
    await sql`
      create trigger ${sql.id(`${table}_used_bytes_change`)} after insert or delete on ${sql.id(table)}
      for each row execute function used_bytes_track()`.execute(db);
    await sql`
      create trigger ${sql.id(`${table}_used_bytes_update`)} after update of size, uploaded_by
      on ${sql.id(table)} for each row when (old.size is distinct from new.size
        or old.uploaded_by is distinct from new.uploaded_by)
      execute function used_bytes_track()`.execute(db);
  }
}
