import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { bareDatabase, insertBareFiles, insertBareUser, type UntypedDb } from './harness.js';

// Migration 2026-12-09T0900_trash_keeps_downloads: the downloads the old trash had set aside
// (file_id null, the id in trashed_file_id) go back under their file's id, downloads.file_id
// loses its foreign key (it may name a trashed file now), and the table keeps its indexes,
// triggers and rows; down() puts all of it back.

const BEFORE = '2026-12-08T0900_downloads_covering';
const MIGRATION = '2026-12-09T0900_trash_keeps_downloads';

const bare = bareDatabase();

it('moves set-aside downloads back under their trashed file, drops the key, and reverses', async () => {
  const { db, dialect } = bare.connection;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();

  // Rows of the schema as it stood then (downloads.trashed_file_id), which today's types lack.
  const old = db as unknown as UntypedDb;
  const now = Date.now();
  const userId = await insertBareUser(old, now);
  const [kept, trashed] = (await insertBareFiles(old, userId, now, ['kept', 'trashed'])) as [
    Record<string, unknown>,
    Record<string, unknown>,
  ];
  const download = (fileId: unknown, at: number) =>
    old
      .insertInto('downloads')
      .values({ file_id: fileId, file_name: 'x', user_id: userId, at })
      .execute();
  for (let i = 0; i < 3; i++) await download(kept.id, now - i);
  for (let i = 0; i < 2; i++) await download(trashed.id, now - i);
  // What the old trash did: the downloads aside, the row out of `files` into `trashed_files`.
  await sql`
    update downloads set trashed_file_id = file_id, file_id = null
    where file_id = ${trashed.id}`.execute(db);
  await old.deleteFrom('files').where('id', '=', trashed.id).execute();
  await old
    .insertInto('trashed_files')
    .values({ ...trashed, deleted_at: now, deleted_by: null, tag_ids: '[]' })
    .execute();

  const perFile = async () => {
    const rows = await old
      .selectFrom('downloads')
      .select(['file_id'])
      .select((eb) => eb.fn.countAll().as('n'))
      .groupBy('file_id')
      .execute();
    // Null first, then by id (the two databases sort null at opposite ends).
    return rows
      .map((r) => [r.file_id === null ? null : Number(r.file_id), Number(r.n)])
      .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
  };
  const fileTotal = async (id: unknown) => {
    const row = await old
      .selectFrom('download_totals')
      .select('downloads')
      .where('kind', '=', 'file')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(row?.downloads ?? 0);
  };
  const fileKeyCount = async () => {
    if (dialect === 'postgres') {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_constraint c
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any (c.conkey)
        where c.conrelid = 'downloads'::regclass and c.contype = 'f' and a.attname = 'file_id'`.execute(
        db,
      );
      return rows[0]!.n;
    }
    const { rows } = await sql<{ from: string }>`pragma foreign_key_list(downloads)`.execute(db);
    return rows.filter((r) => r.from === 'file_id').length;
  };
  expect(await perFile()).toEqual([
    [null, 2],
    [Number(kept.id), 3],
  ]);
  expect(await fileTotal(trashed.id)).toBe(0);
  expect(await fileKeyCount()).toBe(1);

  const last = await old
    .selectFrom('downloads')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirstOrThrow();
  /** The last download id given out. */
  let given = Number(last.id);
  if (dialect === 'sqlite') {
    // A row the rebuilt table's keys refuse (written while a connection had them off) fails the
    // migration after the old table was dropped: the transaction puts everything back.
    await sql`pragma foreign_keys = off`.execute(db);
    await download(kept.id, now).then(() =>
      sql`update downloads set user_id = 999999 where id = (select max(id) from downloads)`.execute(
        db,
      ),
    );
    await sql`pragma foreign_keys = on`.execute(db);
    given += 1;
    expect((await migrator.migrateTo(MIGRATION)).error).toBeInstanceOf(Error);
    expect(await fileKeyCount()).toBe(1);
    expect(await perFile()).toEqual([
      [null, 2],
      [Number(kept.id), 4],
    ]);
    await old.deleteFrom('downloads').where('user_id', '=', 999999).execute();
  }
  expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
  expect(await perFile()).toEqual([
    [Number(kept.id), 3],
    [Number(trashed.id), 2],
  ]);
  expect(await fileTotal(trashed.id)).toBe(2);
  expect(await fileKeyCount()).toBe(0);
  // The rebuilt table kept its triggers and its AUTOINCREMENT position: a new download is
  // counted, and takes the next id (on SQLite the last one ever given was deleted).
  await download(kept.id, now);
  expect(await fileTotal(kept.id)).toBe(4);
  const next = await old
    .selectFrom('downloads')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirstOrThrow();
  expect(Number(next.id)).toBe(given + 1);
  const { rows: indexes } =
    dialect === 'postgres'
      ? await sql<{ name: string }>`
          select indexname as name from pg_indexes where tablename = 'downloads' order by 1`.execute(
          db,
        )
      : await sql<{ name: string }>`
          select name from sqlite_master where type = 'index' and tbl_name = 'downloads'
          and sql is not null order by 1`.execute(db);
  expect(indexes.map((r) => r.name)).toEqual(
    expect.arrayContaining([
      'downloads_at',
      'downloads_file_at_user',
      'downloads_share_link_at',
      'downloads_user_at_file',
    ]),
  );
  expect(indexes.map((r) => r.name)).not.toContain('downloads_trashed_file');

  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
  expect(await perFile()).toEqual([
    [null, 2],
    [Number(kept.id), 4],
  ]);
  expect(await fileTotal(trashed.id)).toBe(0);
  expect(await fileKeyCount()).toBe(1);
  const aside = await old
    .selectFrom('downloads')
    .select('trashed_file_id')
    .where('trashed_file_id', 'is not', null)
    .execute();
  expect(aside.map((r) => Number(r.trashed_file_id))).toEqual([trashed.id, trashed.id].map(Number));
});
