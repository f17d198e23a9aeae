import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: (un)linking a tag no longer moves the file's downloads between the tag's rollups in
// the same statement. It records the move in `tag_link_moves` (file, tag, +1 or -1), and
// `fold_tag_link_moves` applies the recorded moves later, in transactions of their own: before
// any read of the tags' rollups (stats.service.ts), and within seconds in the background
// (server.ts). Trashing 1,000 files of the bench library rewrote ~6,000 day rows and ~12,000 hour
// rows of their tags' rollups inside the request (the unlink took 176 of a ~220 ms request); it
// now writes 2,600 small rows, and the request takes ~110–150 ms.
//
// `files` also gets a fillfactor of 85: a change that touches no indexed column (a retag or a
// rename bumps `updated_at`) can then stay in its page as a HOT update instead of writing an
// entry in each of the table's 13 indexes. It applies to pages written from now on.
//
// What stays exact, and how. A tag's rollups always hold, for each file, the file's downloads
// times the link's *folded* weight: 1 while the link exists and its moves are folded, 0 once it is
// gone and folded, and in between the link's state minus the net of its pending moves
// (`tag_link_weights`). Every download trigger adds or subtracts its rows by those weights instead
// of by the links as they are, so a download of a file whose new tag is not folded yet is left to
// the fold, which adds the file's rollups as they are then. The fold locks the files' rows (and
// trashed rows) first, as every download and every link change does: with those locks no
// download of the file can be half-counted, and the statement after them sees every one that
// committed. SQLite keeps its row triggers, which move a link's downloads at once (cheap there).

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The tags that a downloads transition table's rows count toward, with the links' weights. */
const tagsOf = (changed: string) =>
  `${changed} c join tag_link_weights(array(select distinct file_id from ${changed}
      where file_id is not null)) l on l.file_id = c.file_id`;

/** The rollup keys of a downloads transition table, each with its weight times `sign`. */
const rollupKeys = (changed: string, day: boolean, sign: string) => {
  const at = day ? `, c.at - c.at % ${DAY_MS}` : '';
  return `
  select 'file' as kind, c.file_id as id${day ? `${at} as day` : ''}, ${sign} as w
    from ${changed} c where c.file_id is not null
  union all
  select 'user', c.user_id${at}, ${sign} from ${changed} c where c.user_id is not null
  union all
  select 'tag', l.tag_id${at}, ${sign} * l.w from ${tagsOf(changed)}`;
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
const tagHours = (changed: string, sign: string) => `
    insert into download_tag_hours (hour, tag_id, downloads)
      select c.at - c.at % ${HOUR_MS}, l.tag_id, ${sign} * sum(l.w) from ${tagsOf(changed)}
      group by 1, 2 having sum(l.w) <> 0 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads;`;

const NEW_BODIES: Record<string, string> = {
  download_rollups_insert: rollups((day) => rollupKeys('inserted', day, '1')),
  download_rollups_delete: rollups((day) => rollupKeys('removed', day, '-1')),
  // An update applies the net change per key once (keys that cancel out are skipped).
  download_rollups_update: rollups(
    (day) => `${rollupKeys('removed', day, '-1')} union all ${rollupKeys('inserted', day, '1')}`,
  ),
  download_tag_hours_insert: tagHours('inserted', '1'),
  download_tag_hours_delete: tagHours('removed', '-1'),
  download_tag_hours_update: tagHours('removed', '-1') + tagHours('inserted', '1'),
  download_rollups_link: `
    insert into tag_link_moves (file_id, tag_id, sign) select file_id, tag_id, 1 from linked;`,
  download_rollups_unlink: `
    insert into tag_link_moves (file_id, tag_id, sign) select file_id, tag_id, -1 from unlinked;`,
};

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
  for (const [fn, body] of Object.entries(NEW_BODIES)) {
    await sql`
      create or replace function ${sql.id(fn)}() returns trigger language plpgsql as $$
      begin ${sql.raw(body)} return null; end $$`.execute(db);
  }
  for (const fn of ['download_tag_hours_link', 'download_tag_hours_unlink']) {
    await sql`drop trigger ${sql.id(fn)} on file_tags`.execute(db);
    await sql`drop function ${sql.id(fn)}()`.execute(db);
  }
  // Folds the recorded moves of up to `max_files` files (the lowest ids first), of `only_files`
  // only unless it is null: each file's net move per tag times the file's rollups as they are now,
  // into the tag's days, total and hours. Returns how many moves it folded. A bound on the files
  // keeps its row locks short beside the requests that want them.
  await sql`
    create function fold_tag_link_moves(only_files integer[], max_files integer)
      returns integer language plpgsql as $$
    declare
      ids integer[];
      held integer[];
      folded integer;
    begin
      select array_agg(file_id) into ids from (
        select distinct m.file_id from tag_link_moves m
        where only_files is null or m.file_id = any(only_files)
        order by m.file_id limit max_files) f;
      if ids is null then return 0; end if;
      -- Lock order: the files' rows, then trashed rows, each in id order. A download updates its
      -- file's row before it writes, a retag or trash locks the rows it changes, a restore or
      -- purge locks the trashed row: while these are held, none of that is half done for these
      -- files, and the statement after them sees every one that committed.
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
        select file_id, tag_id, sum(sign)::integer as w from moved
        group by file_id, tag_id having sum(sign) <> 0
      ), days as (
        insert into download_days (kind, id, day, downloads)
          select 'tag', n.tag_id, d.day, sum(n.w * d.downloads) from net n
          join download_days d on d.kind = 'file' and d.id = n.file_id
          group by n.tag_id, d.day having sum(n.w * d.downloads) <> 0 order by n.tag_id, d.day
          on conflict (kind, id, day) do update
            set downloads = download_days.downloads + excluded.downloads
          returning 1
      ), totals as (
        insert into download_totals (kind, id, downloads)
          select 'tag', n.tag_id, sum(n.w * t.downloads) from net n
          join download_totals t on t.kind = 'file' and t.id = n.file_id
          group by n.tag_id having sum(n.w * t.downloads) <> 0 order by n.tag_id
          on conflict (kind, id) do update
            set downloads = download_totals.downloads + excluded.downloads
          returning 1
      ), hours as (
        insert into download_tag_hours (hour, tag_id, downloads)
          select d.at - d.at % ${sql.raw(String(HOUR_MS))}, n.tag_id, sum(n.w) from net n
          join downloads d on d.file_id = n.file_id
          group by 1, 2 having sum(n.w) <> 0 order by 1, 2
          on conflict (hour, tag_id) do update
            set downloads = download_tag_hours.downloads + excluded.downloads
          returning 1
      )
      select count(*) into folded from moved;
      return folded;
    end $$`.execute(db);
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select fold_tag_link_moves(null, null)`.execute(db);
  for (const def of Object.values(OLD_DEFINITIONS)) await sql.raw(def).execute(db);
  for (const [name, event, table] of [
    ['link', 'insert', 'new table as linked'],
    ['unlink', 'delete', 'old table as unlinked'],
  ] as const) {
    const fn = sql.raw(`download_tag_hours_${name}`);
    await sql`
      create trigger ${fn} after ${sql.raw(event)} on file_tags
        referencing ${sql.raw(table)} for each statement execute function ${fn}()`.execute(db);
  }
  await sql`drop function fold_tag_link_moves(integer[], integer)`.execute(db);
  await sql`alter table files reset (fillfactor)`.execute(db);
  await sql`drop function tag_link_weights(integer[])`.execute(db);
  await sql`drop table tag_link_moves`.execute(db);
}

/** The functions as they were before (pg_get_functiondef), for `down`. */
const OLD_DEFINITIONS: Record<string, string> = {
  download_rollups_insert: `
CREATE OR REPLACE FUNCTION public.download_rollups_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, 1 * count(*) from (
        select 'file' as kind, c.file_id as id, c.at - c.at % 86400000 as day
          from inserted c where c.file_id is not null
        union all
        select 'user', c.user_id, c.at - c.at % 86400000
          from inserted c where c.user_id is not null
        union all
        select 'tag', ft.tag_id, c.at - c.at % 86400000
          from inserted c join file_tags ft on ft.file_id = c.file_id) x
      group by kind, id, day order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, 1 * count(*) from (
        select 'file' as kind, c.file_id as id
          from inserted c where c.file_id is not null
        union all
        select 'user', c.user_id
          from inserted c where c.user_id is not null
        union all
        select 'tag', ft.tag_id
          from inserted c join file_tags ft on ft.file_id = c.file_id) x
      group by kind, id order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads; return null; end $function$`,
  download_rollups_update: `
CREATE OR REPLACE FUNCTION public.download_rollups_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, sum(sign) from (
        
  select 'file' as kind, c.file_id as id, c.at - c.at % 86400000 as day, -1 as sign
    from removed c where c.file_id is not null
  union all
  select 'user', c.user_id, c.at - c.at % 86400000, -1
    from removed c where c.user_id is not null
  union all
  select 'tag', ft.tag_id, c.at - c.at % 86400000, -1
    from removed c join file_tags ft on ft.file_id = c.file_id union all 
  select 'file' as kind, c.file_id as id, c.at - c.at % 86400000 as day, 1 as sign
    from inserted c where c.file_id is not null
  union all
  select 'user', c.user_id, c.at - c.at % 86400000, 1
    from inserted c where c.user_id is not null
  union all
  select 'tag', ft.tag_id, c.at - c.at % 86400000, 1
    from inserted c join file_tags ft on ft.file_id = c.file_id) x
      group by kind, id, day having sum(sign) <> 0 order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, sum(sign) from (
        
  select 'file' as kind, c.file_id as id, -1 as sign
    from removed c where c.file_id is not null
  union all
  select 'user', c.user_id, -1
    from removed c where c.user_id is not null
  union all
  select 'tag', ft.tag_id, -1
    from removed c join file_tags ft on ft.file_id = c.file_id union all 
  select 'file' as kind, c.file_id as id, 1 as sign
    from inserted c where c.file_id is not null
  union all
  select 'user', c.user_id, 1
    from inserted c where c.user_id is not null
  union all
  select 'tag', ft.tag_id, 1
    from inserted c join file_tags ft on ft.file_id = c.file_id) x
      group by kind, id having sum(sign) <> 0 order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads; return null; end $function$`,
  download_rollups_delete: `
CREATE OR REPLACE FUNCTION public.download_rollups_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_days (kind, id, day, downloads)
      select kind, id, day, -1 * count(*) from (
        select 'file' as kind, c.file_id as id, c.at - c.at % 86400000 as day
          from removed c where c.file_id is not null
        union all
        select 'user', c.user_id, c.at - c.at % 86400000
          from removed c where c.user_id is not null
        union all
        select 'tag', ft.tag_id, c.at - c.at % 86400000
          from removed c join file_tags ft on ft.file_id = c.file_id) x
      group by kind, id, day order by kind, id, day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select kind, id, -1 * count(*) from (
        select 'file' as kind, c.file_id as id
          from removed c where c.file_id is not null
        union all
        select 'user', c.user_id
          from removed c where c.user_id is not null
        union all
        select 'tag', ft.tag_id
          from removed c join file_tags ft on ft.file_id = c.file_id) x
      group by kind, id order by kind, id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads; return null; end $function$`,
  download_tag_hours_insert: `
CREATE OR REPLACE FUNCTION public.download_tag_hours_insert()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % 3600000, t.tag_id, 1 * count(*) from inserted d join file_tags t on t.file_id = d.file_id
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads; return null; end $function$`,
  download_tag_hours_update: `
CREATE OR REPLACE FUNCTION public.download_tag_hours_update()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % 3600000, t.tag_id, -1 * count(*) from removed d join file_tags t on t.file_id = d.file_id
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads;
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % 3600000, t.tag_id, 1 * count(*) from inserted d join file_tags t on t.file_id = d.file_id
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads; return null; end $function$`,
  download_tag_hours_delete: `
CREATE OR REPLACE FUNCTION public.download_tag_hours_delete()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % 3600000, t.tag_id, -1 * count(*) from removed d join file_tags t on t.file_id = d.file_id
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads; return null; end $function$`,
  download_rollups_link: `
CREATE OR REPLACE FUNCTION public.download_rollups_link()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_days (kind, id, day, downloads)
      select 'tag', l.tag_id, d.day, 1 * sum(d.downloads) from linked l
      join download_days d on d.kind = 'file' and d.id = l.file_id
      group by l.tag_id, d.day having sum(d.downloads) <> 0
      order by l.tag_id, d.day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select 'tag', l.tag_id, 1 * sum(t.downloads) from linked l
      join download_totals t on t.kind = 'file' and t.id = l.file_id
      group by l.tag_id having sum(t.downloads) <> 0 order by l.tag_id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads; return null; end $function$`,
  download_rollups_unlink: `
CREATE OR REPLACE FUNCTION public.download_rollups_unlink()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_days (kind, id, day, downloads)
      select 'tag', l.tag_id, d.day, -1 * sum(d.downloads) from unlinked l
      join download_days d on d.kind = 'file' and d.id = l.file_id
      group by l.tag_id, d.day having sum(d.downloads) <> 0
      order by l.tag_id, d.day
      on conflict (kind, id, day) do update set downloads = download_days.downloads + excluded.downloads;
    insert into download_totals (kind, id, downloads)
      select 'tag', l.tag_id, -1 * sum(t.downloads) from unlinked l
      join download_totals t on t.kind = 'file' and t.id = l.file_id
      group by l.tag_id having sum(t.downloads) <> 0 order by l.tag_id
      on conflict (kind, id) do update set downloads = download_totals.downloads + excluded.downloads; return null; end $function$`,
  download_tag_hours_link: `
CREATE OR REPLACE FUNCTION public.download_tag_hours_link()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % 3600000, t.tag_id, 1 * count(*) from linked t join downloads d on d.file_id = t.file_id
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads; return null; end $function$`,
  download_tag_hours_unlink: `
CREATE OR REPLACE FUNCTION public.download_tag_hours_unlink()
 RETURNS trigger
 LANGUAGE plpgsql
AS $function$
      begin 
    insert into download_tag_hours (hour, tag_id, downloads)
      select d.at - d.at % 3600000, t.tag_id, -1 * count(*) from unlinked t join downloads d on d.file_id = t.file_id
      group by 1, 2 order by 1, 2
      on conflict (hour, tag_id) do update
        set downloads = download_tag_hours.downloads + excluded.downloads; return null; end $function$`,
};
