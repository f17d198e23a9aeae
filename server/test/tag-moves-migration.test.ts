import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import {
  bareDatabase,
  bareWrites,
  insertBareFiles,
  insertBareTags,
  insertBareUser,
  type UntypedDb,
} from './harness.js';

// Migration 2026-12-10T0900_tag_link_moves (PostgreSQL): links record their moves, a fold applies
// them. Its down() folds what waits and puts the link triggers back to moving at once; both ways
// every tag rollup equals a recount of the downloads of the files that carry the tag. The same
// holds through 2026-12-11T0900_download_triggers_fast_path, up and down.

const MIGRATION = '2026-12-10T0900_tag_link_moves';
const BEFORE = '2026-12-09T1100_download_tag_hours_hot';
const FAST_PATH = '2026-12-11T0900_download_triggers_fast_path';
const DAY = 86_400_000;
const HOUR = 3_600_000;

const bare = bareDatabase();

it.runIf(process.env.TEST_DATABASE_URL)(
  'folds what waits on the way down, and both ways keeps every tag rollup equal to a recount',
  async () => {
    const { db } = bare.connection;
    const old = db as unknown as UntypedDb;
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();

    const now = Date.now();
    const userId = await insertBareUser(old, now);
    const fileIds = (await insertBareFiles(old, userId, now, ['a', 'b', 'c', 'd'])).map((f) =>
      Number(f.id),
    );
    const tagIds = await insertBareTags(old, now, ['red', 'blue']);
    const [red, blue] = tagIds as [number, number];
    const { link, unlink, download } = bareWrites(old, userId, now);

    /** Every tag rollup as stored (zero rows left out) and as recounted. */
    const rollups = async () => {
      const rows = async (query: ReturnType<typeof sql<{ k: string; n: number }>>) =>
        (await query.execute(db)).rows
          .filter((r) => Number(r.n) !== 0)
          .map((r) => `${r.k}: ${Number(r.n)}`)
          .sort();
      const linked = sql`downloads d join file_tags ft on ft.file_id = d.file_id`;
      return {
        stored: [
          ...(await rows(sql`select 'day ' || id || ' ' || day as k, downloads as n
            from download_days where kind = 'tag'`)),
          ...(await rows(sql`select 'total ' || id as k, downloads as n from download_totals
            where kind = 'tag'`)),
          ...(await rows(sql`select 'hour ' || tag_id || ' ' || hour as k, downloads as n
            from download_tag_hours`)),
        ].sort(),
        counted: [
          ...(await rows(sql`select 'day ' || ft.tag_id || ' ' || (d.at - d.at % ${sql.lit(DAY)})
            as k, count(*) as n from ${linked} group by 1`)),
          ...(await rows(sql`select 'total ' || ft.tag_id as k, count(*) as n from ${linked}
            group by 1`)),
          ...(await rows(sql`select 'hour ' || ft.tag_id || ' ' || (d.at - d.at % ${sql.lit(HOUR)})
            as k, count(*) as n from ${linked} group by 1`)),
        ].sort(),
      };
    };
    const pending = async () =>
      Number(
        (await sql<{ n: number }>`select count(*) as n from tag_link_moves`.execute(db)).rows[0]!.n,
      );

    // Downloads before and after links that wait to be folded.
    for (const [i, fileId] of fileIds.entries()) await download(fileId, i * DAY);
    await link(fileIds[0]!, red);
    await link(fileIds[1]!, red);
    await link(fileIds[1]!, blue);
    for (const [i, fileId] of fileIds.entries()) await download(fileId, i * HOUR + DAY);
    await unlink(fileIds[0]!, red);
    await link(fileIds[2]!, blue);
    expect(await pending()).toBe(5);
    await sql`select fold_tag_link_moves(null)`.execute(db);
    let { stored, counted } = await rollups();
    expect(counted.length).toBeGreaterThan(4);
    expect(stored).toEqual(counted);

    // Down with moves waiting: they are folded, and the links move at once again.
    await link(fileIds[3]!, red);
    await unlink(fileIds[1]!, blue);
    expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
    ({ stored, counted } = await rollups());
    expect(stored).toEqual(counted);
    await link(fileIds[0]!, blue);
    await unlink(fileIds[3]!, red);
    await download(fileIds[0]!, 2 * HOUR);
    ({ stored, counted } = await rollups());
    expect(stored).toEqual(counted);

    // And up again.
    expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
    await link(fileIds[3]!, blue);
    await download(fileIds[3]!, 3 * HOUR);
    expect(await pending()).toBe(1);
    await sql`select fold_tag_link_moves(null)`.execute(db);
    ({ stored, counted } = await rollups());
    expect(stored).toEqual(counted);

    // The next migration's check (join the links when no move waits) and its way down.
    expect((await migrator.migrateTo(FAST_PATH)).error).toBeUndefined();
    await download(fileIds[2]!, 4 * HOUR);
    await unlink(fileIds[2]!, blue);
    await download(fileIds[2]!, 5 * HOUR);
    await download(fileIds[1]!, 5 * HOUR);
    expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
    await link(fileIds[1]!, blue);
    await download(fileIds[1]!, 6 * HOUR);
    expect(await pending()).toBe(2);
    await sql`select fold_tag_link_moves(null)`.execute(db);
    ({ stored, counted } = await rollups());
    expect(stored).toEqual(counted);
  },
);
