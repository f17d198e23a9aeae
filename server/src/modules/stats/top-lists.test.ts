import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, insertDownloads, insertFiles, writeDownloads } from '../../../test/library.js';
import { bucketStart, bucketStarts, type StatsInterval } from './buckets.js';
import type { Viewer } from '../auth/viewer.js';
import { sortKey } from '../../db/sort-key.js';
import { rollupSource } from './rank-sources.js';
import { createStatsService } from './stats.service.js';
import { thresholdTop } from './threshold-top.js';

// The top lists read rollups kept by triggers (threshold-top.ts); this compares every list, over
// ranges with and without partial days and with each filter, against a brute-force count of the
// raw downloads, after the changes that move counts: new downloads, retagging, hiding, deleting
// a file to the trash and for good (its downloads keep their rows) and deleting download rows.
// Besides the four colour tags, a few "wide" files carry Blue and many of 40 more tags, and 36
// more users download: a tag's users and co-tags and a user's tags then have more candidates
// than the walk's first round, which the lists of 40 make it go past.

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

const TOP = `query($from: DateTime, $to: DateTime, $fileId: ID, $userId: ID, $tagId: ID, $limit: Int,
    $interval: StatsInterval) {
  downloadStats(from: $from, to: $to, fileId: $fileId, userId: $userId, tagId: $tagId, interval: $interval) {
    total uniqueUsers series { start count }
    topFiles(limit: $limit) { count file { id } }
    topUsers(limit: $limit) { count user { id } }
    topTags(limit: $limit) { count tag { id } } } }`;

interface Top {
  total: number;
  uniqueUsers: number;
  series: { start: string; count: number }[];
  topFiles: { count: number; file: { id: string } }[];
  topUsers: { count: number; user: { id: string } }[];
  topTags: { count: number; tag: { id: string } }[];
}

/** A small deterministic generator, so a failure replays the same library. */
function random(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

interface Query {
  from: number;
  to: number;
  fileId?: number;
  userId?: number;
  tagId?: number;
  interval?: StatsInterval;
  /** Of each top list; 10 unless given. */
  limit?: number;
}

const WIDE_TAGS = Array.from({ length: 40 }, (_, i) => `x${i}`);

describe('top lists', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let users: number[];
  let files: number[];
  /** A file moved to the trash by the test that deletes one. */
  let trashedFile: number | undefined;
  /** Files carrying Blue and many x tags; the first ones also Navy, and Teal. */
  let wide: number[];
  const rand = random(7);

  /** The stats service on the server's connection, each statement it sends passed to `record`. */
  const recordingStats = async (
    record: (q: { sql: string; parameters: readonly unknown[] }) => void,
  ) => {
    const base = t.server.connection.db;
    const recording: KyselyPlugin = {
      transformQuery: (args) => {
        record(base.getExecutor().compileQuery(args.node, args.queryId));
        return args.node;
      },
      transformResult: (args) => Promise.resolve(args.result),
    };
    const admin = await base
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'ADMIN')
      .executeTakeFirstOrThrow();
    const viewer: Viewer = { kind: 'token', user: admin, tokenId: 0, scopes: ['STATS'] };
    return {
      stats: createStatsService(base.withPlugin(recording), t.server.connection.dialect),
      viewer,
    };
  };

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    users = [Number(admin.id)];
    for (let i = 0; i < 5; i++) users.push(Number((await t.signUp(`u${i}@example.com`)).id));
    // Straight to the table: signing up 36 more would hash as many passwords.
    for (let i = 0; i < 36; i++) {
      const name = `extra${i}`;
      const row = await t.server.connection.db
        .insertInto('users')
        .values({
          email: `${name}@example.com`,
          name,
          name_sort: sortKey(name),
          password_hash: 'x',
          role: 'USER',
          created_at: T0,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      users.push(row.id);
    }
    const tags = ['Red', 'Green', 'Blue', 'Gray'];
    files = await insertFiles(
      t,
      Array.from({ length: 40 }, (_, i) => ({
        name: `f${i}.txt`,
        status: i % 7 === 0 ? ('HIDDEN' as const) : ('ACTIVE' as const),
        tags: tags.filter(() => rand() < 0.4),
      })),
    );
    // Navy only on files that carry Blue (created before it) and Teal (after it): both tie
    // Navy's own count in its co-tags, one before it and one after.
    wide = await insertFiles(
      t,
      Array.from({ length: 12 }, (_, j) => ({
        name: `wide${j}.txt`,
        tags: [
          'Blue',
          ...(j < 4 ? ['Navy', 'Teal'] : []),
          ...WIDE_TAGS.filter((_, i) => (i + j) % 3 !== 0 && i % 12 !== j),
        ],
      })),
    );
    await download(1500);
    await download(400, wide);
  });
  afterAll(() => t.close());

  /** Downloads skewed towards the first files and users, over 90 days, some anonymous. */
  async function download(n: number, of = files) {
    const pick = <T>(xs: T[]) => xs[Math.floor(xs.length * rand() ** 2)]!;
    await insertDownloads(
      t,
      Array.from({ length: n }, () => ({
        fileId: pick(of),
        userId: rand() < 0.1 ? null : pick(users),
        at: T0 + Math.floor(rand() * 90 * DAY),
      })),
    );
  }

  /** The same lists counted from the raw downloads, ties by id. */
  async function bruteForce(v: Query) {
    const db = t.server.connection.db;
    const downloads = await db
      .selectFrom('downloads')
      .select(['file_id', 'user_id', 'at'])
      .where('at', '>=', v.from)
      .where('at', '<', v.to)
      .execute();
    // A trashed file's downloads keep its id; for the statistics it is deleted.
    const live = new Set((await db.selectFrom('files').select('id').execute()).map((r) => r.id));
    const fileOf = (d: { file_id: number | null }) =>
      d.file_id != null && live.has(d.file_id) ? d.file_id : null;
    const links = await db.selectFrom('file_tags').select(['file_id', 'tag_id']).execute();
    const tagsOf = new Map<number, number[]>();
    for (const l of links) tagsOf.set(l.file_id, [...(tagsOf.get(l.file_id) ?? []), l.tag_id]);
    const kept = downloads.filter(
      (d) =>
        (v.fileId == null || fileOf(d) === v.fileId) &&
        (v.userId == null || d.user_id === v.userId) &&
        (v.tagId == null || (d.file_id != null && tagsOf.get(d.file_id)?.includes(v.tagId))),
    );
    const rank = (ids: (number | null)[]) => {
      const counts = new Map<number, number>();
      for (const id of ids) if (id != null) counts.set(id, (counts.get(id) ?? 0) + 1);
      return [...counts]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, v.limit ?? 10)
        .map(([id, count]) => [String(id), count]);
    };
    const perBucket = new Map<number, number>();
    for (const d of kept) {
      const start = bucketStart(d.at, v.interval ?? 'DAY');
      perBucket.set(start, (perBucket.get(start) ?? 0) + 1);
    }
    return {
      total: kept.length,
      uniqueUsers: new Set(kept.flatMap((d) => (d.user_id == null ? [] : [d.user_id]))).size,
      series: bucketStarts(v.from, v.to, v.interval ?? 'DAY')
        .map((start): [number, number] => [start, perBucket.get(start) ?? 0])
        .filter(([, count]) => count > 0),
      files: rank(kept.map(fileOf)),
      users: rank(kept.map((d) => d.user_id)),
      tags: rank(kept.flatMap((d) => (d.file_id == null ? [] : (tagsOf.get(d.file_id) ?? [])))),
    };
  }

  async function served(v: Query) {
    const data = await t.data<{ downloadStats: Top }>(
      TOP,
      {
        from: new Date(v.from).toISOString(),
        to: new Date(v.to).toISOString(),
        fileId: v.fileId == null ? null : String(v.fileId),
        userId: v.userId == null ? null : String(v.userId),
        tagId: v.tagId == null ? null : String(v.tagId),
        limit: v.limit ?? 10,
        interval: v.interval ?? 'DAY',
      },
      { token: admin.token },
    );
    const s = data.downloadStats;
    return {
      total: s.total,
      uniqueUsers: s.uniqueUsers,
      series: s.series
        .map((p): [number, number] => [Date.parse(p.start), p.count])
        .filter(([, count]) => count > 0),
      files: s.topFiles.map((c) => [c.file.id, c.count]),
      users: s.topUsers.map((c) => [c.user.id, c.count]),
      tags: s.topTags.map((c) => [c.tag.id, c.count]),
    };
  }

  const tagId = async (key: string) =>
    (
      await t.server.connection.db
        .selectFrom('tags')
        .select('id')
        .where('name_key', '=', key)
        .executeTakeFirstOrThrow()
    ).id;

  async function expectExact() {
    const tagIds = (await t.server.connection.db.selectFrom('tags').select('id').execute()).map(
      (r) => r.id,
    );
    const [blue, navy] = [await tagId('blue'), await tagId('navy')];
    const ranges = [
      { from: T0, to: T0 + 90 * DAY }, // whole days
      { from: T0 + 3 * DAY + 4_321_000, to: T0 + 61 * DAY + 77_000_000 }, // partial days
      { from: T0 + 5 * DAY + 70_000_000, to: T0 + 33 * DAY + 3_000_000 }, // the other halves
      { from: T0 + 10 * DAY + 5_000, to: T0 + 10 * DAY + 9 * 3_600_000 }, // inside one day
      { from: T0 - 30 * DAY, to: T0 + 400 * DAY }, // beyond the data
    ];
    const filters = [
      {},
      { fileId: files[1] },
      { userId: users[2] },
      { tagId: tagIds[0] },
      { tagId: navy }, // co-tags tying its own count
      { fileId: files[0], userId: users[1] },
      ...(trashedFile == null
        ? []
        : [{ fileId: trashedFile }, { fileId: trashedFile, userId: users[1] }]),
    ];
    for (const range of ranges) {
      for (const filter of filters) {
        for (const interval of ['DAY', 'WEEK', 'MONTH'] as const) {
          // Every interval for the series; the top lists do not depend on it.
          if (interval !== 'DAY' && range.to - range.from > 100 * DAY) continue;
          const v = { ...range, ...filter, interval };
          expect(await served(v), JSON.stringify(v)).toEqual(await bruteForce(v));
        }
      }
      // More than 32 candidates each: Blue's users and co-tags, the admin's tags, all tags.
      for (const filter of [{}, { tagId: blue }, { userId: users[0] }]) {
        const v = { ...range, ...filter, limit: 40 };
        expect(await served(v), JSON.stringify(v)).toEqual(await bruteForce(v));
      }
    }
  }

  it('match a brute-force count of the raw downloads, HIDDEN files included', async () => {
    const hidden = await bruteForce({ from: T0, to: T0 + 90 * DAY });
    expect(hidden.files.some(([id]) => files.indexOf(Number(id)) % 7 === 0)).toBe(true);
    await expectExact();
  });

  it('stay exact after retagging, hiding, deleting files and deleting downloads', async () => {
    const db = t.server.connection.db;
    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await t.gql(query, variables, { token: admin.token });
      if (res.errors) throw new Error(JSON.stringify(res.errors));
    };
    const update = `mutation($id: ID!, $tags: [String!], $status: FileStatus) {
      updateFile(id: $id, tags: $tags, status: $status) { id } }`;
    // Retag the busiest files (the rollups move their whole history between tags).
    await gql(update, { id: String(files[0]), tags: ['Gray', 'Purple'] });
    await gql(update, { id: String(files[1]), tags: [] });
    await gql(update, { id: String(files[2]), status: 'HIDDEN' });
    // Move pairs and users' tags: one file keeps Navy's ties with fewer x tags, one leaves Blue.
    await gql(update, { id: String(wide[1]), tags: ['Blue', 'Navy', 'Teal', 'x1'] });
    await gql(update, { id: String(wide[6]), tags: ['x2', 'x7'] });
    // Delete a busy file to the trash: its downloads keep its id until the purge, yet it counts
    // as deleted. (insertFiles shares one blob row among its files without counting them; count
    // them so the blob outlives this file.)
    await db
      .updateTable('blobs')
      .set({ ref_count: files.length + wide.length })
      .execute();
    await gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: String(files[3]) });
    trashedFile = files[3];
    await gql(`mutation($id: ID!) { deleteTag(id: $id) }`, { id: String(await tagId('red')) });
    // Straight to the table, yet holding the files' rows as the server's writers do: a fold of
    // the retags above may be running on the server's timer.
    await writeDownloads(t, [...files, ...wide], async (trx) => {
      await trx
        .deleteFrom('downloads')
        .where('at', '<', T0 + 5 * DAY)
        .execute();
      await trx
        .updateTable('downloads')
        .set({ user_id: users[5]! })
        .where('user_id', '=', users[1]!)
        .where('at', '<', T0 + 40 * DAY)
        .execute();
    });
    files.splice(3, 1);
    await download(500);
    await expectExact();
    // Purged, its downloads keep only their name.
    await gql(`mutation($id: ID!) { purgeFile(id: $id) }`, { id: String(trashedFile) });
    expect(
      await db.selectFrom('downloads').select('id').where('file_id', '=', trashedFile!).execute(),
    ).toEqual([]);
    await expectExact();
  });

  it('stop walking once the range holds no more downloads to find', async () => {
    // Quiet days after the data: one download of the all-time leader, then nothing.
    const quiet = T0 + 300 * DAY;
    await insertDownloads(t, [{ fileId: files[0]!, userId: users[0]!, at: quiet + 1000 }]);
    let statements = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => (statements++, args.node),
      transformResult: (args) => Promise.resolve(args.result),
    };
    const db = t.server.connection.db.withPlugin(counting);
    const walk = async (from: number, to: number, total: number) => {
      statements = 0;
      const top = await thresholdTop(rollupSource(db, 'file'), from, to, 10, () =>
        Promise.resolve(total),
      );
      return { top, statements };
    };
    // Found in the first round (the leaders, then their days): all the range's downloads, so no
    // second round over the other files.
    expect(await walk(quiet, quiet + 2 * DAY, 1)).toEqual({
      top: [{ id: files[0], count: 1 }],
      statements: 2,
    });
    // A range without downloads reads nothing.
    expect(await walk(quiet + 10 * DAY, quiet + 40 * DAY, 0)).toEqual({ top: [], statements: 0 });
    // And through the API, against the raw count.
    for (const v of [
      { from: quiet, to: quiet + 2 * DAY },
      { from: quiet + 10 * DAY, to: quiet + 40 * DAY },
    ]) {
      expect(await served(v), JSON.stringify(v)).toEqual(await bruteForce(v));
    }
  });

  it("read one file, user or tag from its day rows, and a tag's files from the ranking", async () => {
    const tables: string[][] = [];
    const { stats, viewer } = await recordingStats(({ sql }) =>
      tables.push(['download_days', 'download_totals'].filter((n) => sql.includes(`"${n}"`))),
    );
    const base = t.server.connection.db;
    const tagId = (await base.selectFrom('tags').select('id').executeTakeFirstOrThrow()).id;
    const range = { from: new Date(T0 + 3 * DAY + 5000), to: new Date(T0 + 60 * DAY + 5000) };
    for (const filter of [{ fileId: files[0] }, { userId: users[1] }, { tagId }]) {
      tables.length = 0;
      await stats.downloadStats(viewer, { ...range, interval: 'WEEK', ...filter }).series();
      expect(tables.flat(), JSON.stringify(filter)).toEqual(['download_days']);
    }
    tables.length = 0;
    await stats.downloadStats(viewer, { ...range, tagId }).topFiles(5);
    expect(tables.flat()).toContain('download_totals');
  });

  it("rank a tag's users and co-tags and a user's tags by walking the cross rollups", async () => {
    const statements: { sql: string; parameters: readonly unknown[] }[] = [];
    const { stats, viewer } = await recordingStats((q) => statements.push(q));
    const blue = await tagId('blue');
    const cases = [
      { ranking: 'download_user_tags', filter: { tagId: blue }, list: 'topUsers' },
      { ranking: 'download_tag_pairs', filter: { tagId: blue }, list: 'topTags' },
      { ranking: 'download_user_tags', filter: { userId: users[0] }, list: 'topTags' },
    ] as const;
    const ranges = [
      { from: T0 + 2 * DAY, to: T0 + 80 * DAY, limit: 10 },
      // Partial days at both ends, and more than the first round's 32 candidates to find.
      { from: T0 + 3 * DAY + 5000, to: T0 + 60 * DAY + 50_000_000, limit: 40 },
    ];
    for (const { ranking, filter, list } of cases) {
      for (const { from, to, limit } of ranges) {
        statements.length = 0;
        const s = stats.downloadStats(viewer, {
          from: new Date(from),
          to: new Date(to),
          ...filter,
        });
        const what = JSON.stringify({ list, filter, limit });
        expect((await s[list](limit)).length, what).toBe(limit);
        // One ranking read a round: with 40 to find, a second round after the first 32.
        const rounds = statements.filter((q) => q.sql.includes(`"${ranking}"`)).length;
        if (limit > 32) expect(rounds, what).toBe(2);
        else expect(rounds, what).toBeGreaterThan(0);
        // The direct query reads the filter's downloads over the whole range; the walk reads
        // only the partial days at either end, raw.
        const raw = statements.filter((q) => q.sql.includes('from "downloads"'));
        expect(
          raw.filter((q) => q.parameters.includes(from) && q.parameters.includes(to)),
          what,
        ).toEqual([]);
        if (from % DAY === 0 && to % DAY === 0) expect(raw, what).toEqual([]);
      }
    }
  });

  it('are read only by viewers who see HIDDEN files', async () => {
    const user = await t.signUp('plain@example.com');
    const res = await t.gql(TOP, { limit: 10 }, { token: user.token });
    expect(errorCode(res)).toBe('FORBIDDEN');
    const token = await apiToken(t, user.token, ['STATS']);
    expect(errorCode(await t.gql(TOP, { limit: 10 }, { token }))).toBe('FORBIDDEN');
  });
});
