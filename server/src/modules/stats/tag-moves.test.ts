import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/harness.js';
import { insertDownloads, insertFiles } from '../../../test/library.js';
import {
  deleteTrashedFiles,
  findTrashedFiles,
  lockTrashedFiles,
  reinsertFile,
} from '../files/trash.repository.js';
import { foldTagLinkMoves, pendingTagLinkMoves } from './tag-moves.js';

const TAG = `mutation($ids: [ID!]!, $add: [String!], $remove: [String!]) {
  tagFiles(ids: $ids, add: $add, remove: $remove) { id } }`;
const DELETE_MANY = `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`;
const RESTORE_MANY = `mutation($ids: [ID!]!) { restoreFiles(ids: $ids) { id } }`;
const STATS = `query($tagId: ID, $from: DateTime!, $to: DateTime!) {
  downloadStats(tagId: $tagId, from: $from, to: $to) {
    total topTags(limit: 10) { tag { name } count } } }`;
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** A small deterministic generator (mulberry32), so a failure can be run again as it was. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('tag rollups under retags, trash and downloads at once', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  const gql = <T>(query: string, vars: Record<string, unknown>) =>
    t.data<T>(query, vars, { token: admin.token });

  beforeAll(async () => {
    t = await startTestServer({ TRASH_DAYS: '30' });
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
  });
  afterAll(() => t.close());

  /** Every tag rollup as stored (zero rows left out), and as counted from downloads and links. */
  const tagRollups = async () => {
    const db = t.server.connection.db;
    const norm = (rows: { k: string | number; n: number | string }[]) =>
      rows
        .filter((r) => Number(r.n) !== 0)
        .map((r) => `${r.k}: ${Number(r.n)}`)
        .sort();
    const stored = async (query: ReturnType<typeof sql<{ k: string; n: number }>>) =>
      norm((await query.execute(db)).rows);
    const linked = sql`downloads d join file_tags ft on ft.file_id = d.file_id`;
    return {
      stored: {
        days: await stored(sql`select id || ' ' || day as k, downloads as n from download_days
          where kind = 'tag'`),
        totals: await stored(sql`select id || '' as k, downloads as n from download_totals
          where kind = 'tag'`),
        hours: await stored(sql`select tag_id || ' ' || hour as k, downloads as n
          from download_tag_hours`),
        userDays: await stored(sql`select tag_id || ' ' || user_id || ' ' || day as k,
          downloads as n from download_user_tag_days`),
        userTotals: await stored(sql`select tag_id || ' ' || user_id as k, downloads as n
          from download_user_tags`),
        pairDays: await stored(sql`select tag_id || ' ' || other_id || ' ' || day as k,
          downloads as n from download_tag_pair_days`),
        pairTotals: await stored(sql`select tag_id || ' ' || other_id as k, downloads as n
          from download_tag_pairs`),
      },
      counted: {
        days: await stored(sql`select ft.tag_id || ' ' || (d.at - d.at % ${sql.lit(DAY)}) as k,
          count(*) as n from ${linked} group by 1`),
        totals: await stored(sql`select ft.tag_id || '' as k, count(*) as n from ${linked}
          group by ft.tag_id`),
        hours: await stored(sql`select ft.tag_id || ' ' || (d.at - d.at % ${sql.lit(HOUR)}) as k,
          count(*) as n from ${linked} group by 1`),
        userDays: await stored(sql`select ft.tag_id || ' ' || d.user_id || ' ' ||
          (d.at - d.at % ${sql.lit(DAY)}) as k, count(*) as n from ${linked}
          where d.user_id is not null group by 1`),
        userTotals: await stored(sql`select ft.tag_id || ' ' || d.user_id as k, count(*) as n
          from ${linked} where d.user_id is not null group by 1`),
        pairDays: await stored(sql`select ft.tag_id || ' ' || o.tag_id || ' ' ||
          (d.at - d.at % ${sql.lit(DAY)}) as k, count(*) as n from ${linked}
          join file_tags o on o.file_id = d.file_id and o.tag_id <> ft.tag_id group by 1`),
        pairTotals: await stored(sql`select ft.tag_id || ' ' || o.tag_id as k, count(*) as n
          from ${linked} join file_tags o on o.file_id = d.file_id and o.tag_id <> ft.tag_id
          group by 1`),
      },
    };
  };

  it.runIf(process.env.TEST_DATABASE_URL)(
    'PostgreSQL: a link records its move, and a statistics read right after folds it in',
    async () => {
      const { db, dialect } = t.server.connection;
      const now = Date.now();
      const ids = await insertFiles(
        t,
        ['one', 'two', 'three'].map((name) => ({ name, uploadedBy: Number(alice.id) })),
      );
      await insertDownloads(
        t,
        ids.flatMap((fileId, i) =>
          Array.from({ length: i + 1 }, (_, k) => ({ fileId, at: now - (k + 1) * DAY })),
        ),
      );
      const tag = (
        await gql<{ createTag: { id: string } }>(
          `mutation($name: String!) { createTag(name: $name) { id } }`,
          { name: 'Moved later' },
        )
      ).createTag;
      // Linking records one move a link and leaves the tag's rollups alone (seen inside the
      // transaction, where the server's background fold cannot reach the moves yet).
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('file_tags')
          .values(ids.map((fileId) => ({ file_id: fileId, tag_id: Number(tag.id) })))
          .execute();
        const { rows } = await sql<{ moves: number; downloads: number }>`
          select (select count(*) from tag_link_moves where tag_id = ${Number(tag.id)}) as moves,
            (select coalesce(sum(downloads), 0) from download_totals
              where kind = 'tag' and id = ${Number(tag.id)}) as downloads`.execute(trx);
        expect(rows.map((r) => [Number(r.moves), Number(r.downloads)])).toEqual([[3, 0]]);
      });
      const stats = await gql<{
        downloadStats: { total: number; topTags: { tag: { name: string }; count: number }[] };
      }>(STATS, {
        tagId: tag.id,
        from: new Date(now - 10 * DAY).toISOString(),
        to: new Date(now).toISOString(),
      });
      expect(stats.downloadStats.total).toBe(6);
      expect(stats.downloadStats.topTags).toEqual([{ tag: { name: 'Moved later' }, count: 6 }]);
      expect(await pendingTagLinkMoves(db, dialect)).toBe(0);
      const { stored, counted } = await tagRollups();
      expect(stored).toEqual(counted);
    },
  );

  it.runIf(process.env.TEST_DATABASE_URL)(
    'PostgreSQL: a download taken back while its file is restored is not folded into the restored links',
    async () => {
      const { db, dialect } = t.server.connection;
      const downloads = t.server.app.services.downloads;
      const [fileId] = await insertFiles(t, [
        // Uploaded by the admin: putting it back touches its uploader's row, not alice's.
        { name: 'restored.txt', uploadedBy: Number(admin.id), tags: ['Restored'] },
      ]);
      const tagId = (
        await db
          .selectFrom('tags')
          .select('id')
          .where('name', '=', 'Restored')
          .executeTakeFirstOrThrow()
      ).id;
      const zip = (await downloads.recordMany([fileId!], Number(alice.id), false, Date.now()))!;
      await gql(DELETE_MANY, { ids: [String(fileId)] });
      await foldTagLinkMoves(db, dialect);
      // Lock waits in this test's database: how the steps below know where the others stand.
      const waiting = async () =>
        Number(
          (
            await sql<{ n: string }>`select count(*) as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'`.execute(db)
          ).rows[0]!.n,
        );
      const gate = () => {
        let open!: () => void;
        return { opened: new Promise<void>((resolve) => (open = resolve)), open: () => open() };
      };

      // Alice's row held elsewhere, so the take-back stops before its commit, at its last step.
      const held = gate();
      const holding = db.transaction().execute(async (trx) => {
        await trx
          .selectFrom('users')
          .select('id')
          .where('id', '=', Number(alice.id))
          .forUpdate()
          .execute();
        await held.opened;
      });
      // A restore takes the trashed row first, and puts the file and its link back while the
      // take-back waits for that row.
      const restoring = gate();
      const locked = gate();
      const restore = db.transaction().execute(async (trx) => {
        await lockTrashedFiles(trx, [fileId!]);
        locked.open();
        await restoring.opened;
        const [row] = await findTrashedFiles(trx, [fileId!]);
        await reinsertFile(trx, row!);
        await trx.insertInto('file_tags').values({ file_id: fileId!, tag_id: tagId }).execute();
        await deleteTrashedFiles(trx, [fileId!]);
      });
      await locked.opened;
      const release = downloads.releaseMany(Number(alice.id), zip);
      await expect.poll(waiting).toBe(1);
      restoring.open();
      await restore;
      // The take-back now waits for alice's row, its download row deleted; the restore's link
      // move waits for a fold. A fold now must wait for the take-back (it holds the file's row),
      // or else it counts the deleted download into the restored link.
      await expect.poll(waiting).toBe(1);
      let settled = false;
      const folding = foldTagLinkMoves(db, dialect).finally(() => (settled = true));
      await expect.poll(async () => settled || (await waiting()) >= 2).toBe(true);
      held.open();
      await Promise.all([holding, release, folding]);
      await foldTagLinkMoves(db, dialect);
      const { stored, counted } = await tagRollups();
      expect(stored).toEqual(counted);
    },
  );

  it('takes a download back from a file in the trash, so its counter comes back right', async () => {
    const { db, dialect } = t.server.connection;
    const downloads = t.server.app.services.downloads;
    const [fileId] = await insertFiles(t, [
      { name: 'binned.txt', uploadedBy: Number(admin.id), tags: ['Binned'] },
    ]);
    const kept = await downloads.record(fileId!, Number(alice.id), Date.now() - HOUR);
    const zip = (await downloads.recordMany([fileId!], Number(alice.id), false, Date.now()))!;
    await gql(DELETE_MANY, { ids: [String(fileId)] });
    // The ZIP could not be sent after all; meanwhile its file went to the trash.
    await downloads.releaseMany(Number(alice.id), zip);
    await gql(RESTORE_MANY, { ids: [String(fileId)] });
    const file = await db
      .selectFrom('files')
      .select(['download_count', 'last_downloaded_at'])
      .where('id', '=', fileId!)
      .executeTakeFirstOrThrow();
    expect(file).toEqual({ download_count: 1, last_downloaded_at: kept!.at });
    await foldTagLinkMoves(db, dialect);
    const { stored, counted } = await tagRollups();
    expect(stored).toEqual(counted);
  });

  it('stay exact while downloads, retags, trash and restores of the same files run at once', async () => {
    const { db, dialect } = t.server.connection;
    const downloads = t.server.app.services.downloads;
    const rand = random(Number(process.env.TAG_MOVES_SEED ?? 1208));
    const now = Date.now();
    const ids = await insertFiles(
      t,
      Array.from({ length: 12 }, (_, i) => ({
        name: `busy ${i}`,
        uploadedBy: Number(alice.id),
        // The last two carry both tags and no round retags or trashes them: whatever order the
        // rounds land in, alice's downloads then reach two tags and a pair.
        tags: i >= 10 ? ['Red', 'Blue'] : i % 2 ? ['Red'] : ['Blue'],
      })),
    );
    const moving = ids.slice(0, 10);
    await insertDownloads(
      t,
      ids.flatMap((fileId, i) =>
        Array.from({ length: i % 4 }, (_, k) => ({
          fileId,
          userId: i >= 10 ? Number(alice.id) : null,
          at: now - k * DAY - i * HOUR,
        })),
      ),
    );
    const some = () => moving.filter(() => rand() < 0.5).map(String);
    const at = () => now - Math.floor(rand() * 5) * DAY - Math.floor(rand() * 24) * HOUR;

    const downloading = async () => {
      for (let i = 0; i < 40; i++) {
        const fileId = ids[Math.floor(rand() * ids.length)]!;
        if (i % 5 === 4) {
          // A ZIP's downloads counted, then taken back (the download triggers' delete side).
          const zip = await downloads.recordMany([fileId, ids[0]!], Number(alice.id), false, at());
          if (zip) await downloads.releaseMany(Number(alice.id), zip);
        } else {
          await downloads.record(fileId, Number(alice.id), at());
        }
      }
    };
    const retagging = async () => {
      for (let i = 0; i < 10; i++) {
        const picked = some();
        if (!picked.length) continue;
        // A file a concurrent round has in the trash makes the request NOT_FOUND: no change.
        await t.gql(TAG, { ids: picked, add: ['Green'], remove: ['Red'] }, { token: admin.token });
        await t.gql(TAG, { ids: picked, add: ['Red'], remove: ['Blue'] }, { token: admin.token });
      }
    };
    const trashing = async () => {
      for (let i = 0; i < 6; i++) {
        const picked = some();
        if (!picked.length) continue;
        const trashed = await t.gql(DELETE_MANY, { ids: picked }, { token: admin.token });
        if (!trashed.errors) await gql(RESTORE_MANY, { ids: picked });
      }
    };
    const folding = async () => {
      for (let i = 0; i < 15; i++) await foldTagLinkMoves(db, dialect);
    };
    await Promise.all([downloading(), downloading(), retagging(), trashing(), folding()]);

    await foldTagLinkMoves(db, dialect);
    expect(await pendingTagLinkMoves(db, dialect)).toBe(0);
    const { stored, counted } = await tagRollups();
    // Not vacuous: downloads of tagged files were counted.
    expect(counted.totals.length).toBeGreaterThan(1);
    expect(counted.userTotals.length).toBeGreaterThan(1);
    expect(counted.pairTotals.length).toBeGreaterThan(1);
    expect(stored).toEqual(counted);
  });
});
