import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import {
  ROLLUP_TABLES,
  rollupDrift,
  type RollupTable,
} from '../src/modules/maintenance/rollup-drift.repository.js';
import { foldTagLinkMoves } from '../src/modules/stats/tag-moves.js';
import {
  bareDatabase,
  bareWrites,
  insertBareFiles,
  insertBareTags,
  insertBareUser,
  type UntypedDb,
} from './harness.js';

// Migration 2026-12-14T0900_download_cross_rollups: a tag's downloads by user and by the files it
// shares with each other tag. Its backfill must count a library that already has downloads
// (anonymous ones too, and on PostgreSQL links whose moves wait for the fold), its triggers and
// the fold (both databases) must keep the rows exact afterwards, with moves waiting and after
// they are folded, and down() must leave the other rollups and the fold working.

const MIGRATION = '2026-12-14T0900_download_cross_rollups';
const BEFORE = '2026-12-13T0900_fold_walks_files';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const CROSS: RollupTable[] = [
  'download_user_tags',
  'download_user_tag_days',
  'download_tag_pairs',
  'download_tag_pair_days',
];

const bare = bareDatabase();

it('backfills a library with downloads, then keeps every rollup exact, up and down', async () => {
  const { db, dialect } = bare.connection;
  const old = db as unknown as UntypedDb;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();

  const now = Date.now();
  const userId = await insertBareUser(old, now);
  const fileIds = (await insertBareFiles(old, userId, now, ['a', 'b', 'c', 'd'])).map((f) =>
    Number(f.id),
  );
  const tagIds = await insertBareTags(old, now, ['red', 'blue', 'green']);
  const [red, blue, green] = tagIds as [number, number, number];
  const [a, b, c, d] = fileIds as [number, number, number, number];
  const { link, unlink, download } = bareWrites(old, userId, now);
  /** The app's fold; below the migration SQLite has nothing to fold. */
  let migrated = false;
  const fold = async () => {
    if (dialect === 'postgres' || migrated) await foldTagLinkMoves(db, dialect);
  };
  /** Every rollup's drift from a recount (tables of `tables` only), empty when exact. */
  const drift = async (tables: readonly RollupTable[] = ROLLUP_TABLES) => {
    const found = [];
    for (const table of tables)
      found.push(...(await rollupDrift(db, dialect, table, { limit: 20 })));
    return found;
  };
  const rows = async (table: string) =>
    Number(
      (await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(db)).rows[0]!
        .n,
    );

  await link(a, red);
  await link(a, blue);
  await link(b, red);
  await link(c, green);
  for (const [i, fileId] of fileIds.entries()) {
    await download(fileId, i * DAY);
    await download(fileId, i * DAY + HOUR, null);
  }
  await fold();
  // Moves that wait for the fold when the migration runs (PostgreSQL).
  await link(b, green);
  await unlink(a, blue);
  await link(d, blue);

  expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
  migrated = true;
  expect(await drift()).toEqual([]);
  await fold();
  expect(await drift()).toEqual([]);
  // Not vacuous: red's user row (a and b), and the pair of b's red and green.
  expect(await rows('download_user_tags')).toBeGreaterThan(2);
  expect(await rows('download_tag_pair_days')).toBeGreaterThan(1);

  // The triggers and the fold from here on: links added and removed around new downloads, an
  // anonymous one, a download moved to another file and one deleted.
  await link(a, green);
  await download(a, 2 * HOUR);
  await download(b, 3 * HOUR, null);
  await unlink(b, red);
  await fold();
  await sql`update downloads set file_id = ${c} where file_id = ${a} and at = ${now - 2 * HOUR}`.execute(
    db,
  );
  await sql`delete from downloads where file_id = ${d}`.execute(db);
  await link(c, red);
  expect(await drift()).toEqual([]);
  await fold();
  expect(await drift()).toEqual([]);

  // Down with moves waiting, then the older rollups and the fold keep working without the tables.
  await link(d, green);
  expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
  migrated = false;
  const tables = await sql<{ n: number }>`select count(*) as n from ${sql.raw(
    dialect === 'postgres'
      ? `information_schema.tables where table_name = 'download_user_tags'`
      : `sqlite_master where name = 'download_user_tags'`,
  )}`.execute(db);
  expect(Number(tables.rows[0]!.n)).toBe(0);
  const older = ROLLUP_TABLES.filter((t) => !CROSS.includes(t));
  await download(d, 4 * HOUR);
  await fold();
  expect(await drift(older)).toEqual([]);

  // And up again: backfilled from the library as it is now.
  await unlink(c, green);
  expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
  migrated = true;
  await download(c, 5 * HOUR);
  await fold();
  expect(await drift()).toEqual([]);
});
