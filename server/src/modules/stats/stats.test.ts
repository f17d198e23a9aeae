import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, insertDownloads, insertFiles } from '../../../test/library.js';
import { bucketCount, bucketStart, bucketStarts } from './buckets.js';

const STATS = `query($from: DateTime, $to: DateTime, $interval: StatsInterval, $fileId: ID, $tagId: ID, $userId: ID) {
  downloadStats(from: $from, to: $to, interval: $interval, fileId: $fileId, tagId: $tagId, userId: $userId) {
    total uniqueUsers series { start count } } }`;

interface Stats {
  total: number;
  uniqueUsers: number;
  series: { start: string; count: number }[];
}

const ms = (iso: string) => Date.parse(iso);

describe('bucket arithmetic', () => {
  it('floors to UTC hours, days, ISO weeks (Monday) and months', () => {
    const t = ms('2026-03-04T05:06:07.008Z'); // a Wednesday
    expect(new Date(bucketStart(t, 'HOUR')).toISOString()).toBe('2026-03-04T05:00:00.000Z');
    expect(new Date(bucketStart(t, 'DAY')).toISOString()).toBe('2026-03-04T00:00:00.000Z');
    expect(new Date(bucketStart(t, 'WEEK')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(new Date(bucketStart(t, 'MONTH')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    const monday = ms('2026-03-02T00:00:00Z');
    expect(bucketStart(monday, 'WEEK')).toBe(monday);
    expect(bucketStart(monday - 1, 'WEEK')).toBe(ms('2026-02-23T00:00:00Z'));
    expect(bucketCount(ms('2024-01-31T00:00:00Z'), ms('2024-03-01T00:00:00Z'), 'MONTH')).toBe(2);
    expect(
      bucketStarts(ms('2023-12-15T00:00:00Z'), ms('2024-03-01T00:00:01Z'), 'MONTH').map((s) =>
        new Date(s).toISOString().slice(0, 7),
      ),
    ).toEqual(['2023-12', '2024-01', '2024-02', '2024-03']);
  });
});

describe('downloadStats', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let user: { token: string; id: string };
  let files: number[];
  const stats = async (variables: Record<string, unknown>, token = admin.token) =>
    (await t.data<{ downloadStats: Stats }>(STATS, variables, { token })).downloadStats;
  /** [from, to) by `interval`. */
  const over = (from: string, to: string, interval: string) => stats({ from, to, interval });
  // The series' points are consecutive intervals: the first start and the counts pin them all.
  const points = (s: Stats) => ({
    first: s.series[0]?.start.slice(0, 13),
    counts: s.series.map((p) => p.count),
  });

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    user = await t.signUp('user@example.com');
    files = await insertFiles(t, [
      { name: 'a.pdf', tags: ['Reports'] },
      { name: 'b.pdf', tags: ['Reports', 'Finance'], status: 'HIDDEN' },
      { name: 'c.pdf' },
    ]);
    const [a, b, c] = files as [number, number, number];
    const u1 = Number(admin.id);
    const u2 = Number(user.id);
    await insertDownloads(t, [
      // Around the edges of [2026-01-05T10:30, 2026-01-05T13:15).
      { fileId: a, userId: u1, at: ms('2026-01-05T10:29:59.999Z') },
      { fileId: a, userId: u1, at: ms('2026-01-05T10:30:00.000Z') },
      { fileId: b, userId: u2, at: ms('2026-01-05T11:00:00.000Z') },
      { fileId: c, userId: u2, at: ms('2026-01-05T12:59:59.999Z') },
      { fileId: a, userId: null, at: ms('2026-01-05T13:14:59.999Z') },
      { fileId: a, userId: u2, at: ms('2026-01-05T13:15:00.000Z') },
      // Other days, weeks and months.
      { fileId: b, userId: u1, at: ms('2026-01-11T23:59:59.999Z') }, // Sunday
      { fileId: b, userId: u1, at: ms('2026-01-12T00:00:00.000Z') }, // Monday
      { fileId: c, userId: u2, at: ms('2026-01-31T23:59:59.999Z') },
      { fileId: c, userId: u2, at: ms('2026-02-01T00:00:00.000Z') },
      { fileId: null, userId: u1, at: ms('2026-02-28T12:00:00.000Z'), fileName: 'gone.txt' },
    ]);
  });
  afterAll(() => t.close());

  it('counts [from, to) per hour, partial hours at both ends included exactly', async () => {
    const s = await over('2026-01-05T10:30:00Z', '2026-01-05T13:15:00Z', 'HOUR');
    expect(points(s)).toEqual({ first: '2026-01-05T10', counts: [1, 1, 1, 1] });
    expect(s.total).toBe(4);
    expect(s.uniqueUsers).toBe(2);
  });

  it('zero-fills days, and a range inside one hour', async () => {
    const s = await stats({ from: '2026-01-04T00:00:00Z', to: '2026-01-08T00:00:00Z' });
    expect(points(s)).toEqual({ first: '2026-01-04T00', counts: [0, 6, 0, 0] });
    const inner = await over('2026-01-05T13:10:00Z', '2026-01-05T13:20:00Z', 'HOUR');
    expect(points(inner)).toEqual({ first: '2026-01-05T13', counts: [2] });
    const empty = await stats({ from: '2025-06-01T00:00:00Z', to: '2025-06-04T00:00:00Z' });
    expect(empty).toEqual({
      total: 0,
      uniqueUsers: 0,
      series: [
        { start: '2025-06-01T00:00:00.000Z', count: 0 },
        { start: '2025-06-02T00:00:00.000Z', count: 0 },
        { start: '2025-06-03T00:00:00.000Z', count: 0 },
      ],
    });
  });

  it('groups ISO weeks from Monday and calendar months, in UTC', async () => {
    const weeks = await over('2026-01-01T00:00:00Z', '2026-01-20T00:00:00Z', 'WEEK');
    expect(points(weeks)).toEqual({ first: '2025-12-29T00', counts: [0, 7, 1, 0] });
    const months = await over('2025-12-15T00:00:00Z', '2026-03-01T00:00:00Z', 'MONTH');
    expect(points(months)).toEqual({ first: '2025-12-01T00', counts: [0, 9, 2] });
    expect(months.total).toBe(11);
    expect(months.uniqueUsers).toBe(2);
  });

  it('filters by file, tag (HIDDEN files included for admins) and user', async () => {
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', interval: 'MONTH' };
    const [a, b, c] = files as [number, number, number];
    expect(points(await stats({ ...range, fileId: String(a) }))).toEqual({
      first: '2026-01-01T00',
      counts: [4, 0],
    });
    const reports = await t.server.connection.db
      .selectFrom('tags')
      .select('id')
      .where('name_key', '=', 'reports')
      .executeTakeFirstOrThrow();
    const byTag = await stats({ ...range, tagId: String(reports.id) });
    expect(byTag.total).toBe(7);
    expect(byTag.uniqueUsers).toBe(2);
    const byUser = await stats({ ...range, userId: user.id });
    expect(points(byUser)).toEqual({ first: '2026-01-01T00', counts: [4, 1] });
    expect(byUser.uniqueUsers).toBe(1);
    const both = await stats({ ...range, userId: user.id, fileId: String(c) });
    expect(both.total).toBe(3);
    expect((await stats({ ...range, fileId: String(b), userId: user.id })).total).toBe(1);
    expect((await stats({ ...range, fileId: '999999' })).total).toBe(0);
    expect(errorCode(await t.gql(STATS, { fileId: 'x' }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('lists the most downloaded files of the range, deleted files left out', async () => {
    const TOP = `query($from: DateTime, $to: DateTime, $limit: Int, $userId: ID) {
      downloadStats(from: $from, to: $to, userId: $userId) {
        topFiles(limit: $limit) { count file { name status } } } }`;
    const top = async (variables: Record<string, unknown>) => {
      const data = await t.data<{
        downloadStats: { topFiles: { count: number; file: { name: string } }[] };
      }>(TOP, variables, { token: admin.token });
      return data.downloadStats.topFiles.map((f) => [f.file.name, f.count]);
    };
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };
    // a: 4, b: 3, c: 3 (ties by file id); the download of a deleted file is left out.
    expect(await top(range)).toEqual([
      ['a.pdf', 4],
      ['b.pdf', 3],
      ['c.pdf', 3],
    ]);
    expect(await top({ ...range, limit: 1 })).toEqual([['a.pdf', 4]]);
    expect(await top({ ...range, userId: user.id })).toEqual([
      ['c.pdf', 3],
      ['a.pdf', 1],
      ['b.pdf', 1],
    ]);
    const bad = await t.gql(TOP, { ...range, limit: 0 }, { token: admin.token });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
  });

  it('lists the top users and top tags of the range, with the same filters', async () => {
    const TOP = `query($from: DateTime, $to: DateTime, $fileId: ID, $limit: Int) {
      downloadStats(from: $from, to: $to, fileId: $fileId) {
        topUsers(limit: $limit) { count user { email } }
        topTags(limit: $limit) { count tag { name } } } }`;
    const top = async (variables: Record<string, unknown>) => {
      const data = await t.data<{
        downloadStats: {
          topUsers: { count: number; user: { email: string } }[];
          topTags: { count: number; tag: { name: string } }[];
        };
      }>(TOP, variables, { token: admin.token });
      return {
        users: data.downloadStats.topUsers.map((u) => [u.user.email, u.count]),
        tags: data.downloadStats.topTags.map((c) => [c.tag.name, c.count]),
      };
    };
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z' };
    // admin: a×2, b×2, a deleted file; user: b, c×3, a; one anonymous download left out.
    // Reports: a×4 + b×3 (b is HIDDEN, admins count it); Finance: b×3; c has no tags.
    expect(await top(range)).toEqual({
      users: [
        ['admin@example.com', 5],
        ['user@example.com', 5],
      ],
      tags: [
        ['Reports', 7],
        ['Finance', 3],
      ],
    });
    expect(await top({ ...range, limit: 1 })).toEqual({
      users: [['admin@example.com', 5]],
      tags: [['Reports', 7]],
    });
    expect(await top({ ...range, fileId: files[0] })).toEqual({
      users: [
        ['admin@example.com', 2],
        ['user@example.com', 1],
      ],
      tags: [['Reports', 4]],
    });
    const bad = await t.gql(TOP, { ...range, limit: 101 }, { token: admin.token });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
  });

  it('defaults to the last 30 days by day', async () => {
    await insertDownloads(t, [{ fileId: files[0]!, userId: null, at: Date.now() - 3_600_000 }]);
    const s = await stats({});
    expect(s.series.length).toBeGreaterThanOrEqual(30);
    expect(s.series.length).toBeLessThanOrEqual(31);
    expect(s.total).toBe(1);
    expect(s.series.at(-1)!.start).toBe(new Date(bucketStart(Date.now() - 1, 'DAY')).toISOString());
  });

  it('refuses more than 1,000 points and empty or reversed ranges', async () => {
    const tooMany = await t.gql(
      STATS,
      { from: '2026-01-01T00:00:00Z', to: '2026-03-01T00:00:00Z', interval: 'HOUR' },
      { token: admin.token },
    );
    expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');
    expect(tooMany.errors?.[0]?.extensions?.fields).toHaveProperty('interval');
    const ok = await over('2026-01-01T00:00:00Z', '2026-02-11T16:00:00Z', 'HOUR'); // exactly 1,000 hours
    expect(ok.series).toHaveLength(1000);
    for (const [from, to] of [
      ['2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'],
      ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z'],
    ]) {
      const res = await t.gql(STATS, { from, to }, { token: admin.token });
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
    }
  });

  it('is for admins and STATS tokens of admins only', async () => {
    const range = { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' };
    expect(errorCode(await t.gql(STATS, range, { token: user.token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(STATS, range))).toBe('UNAUTHENTICATED');
    const adminStats = await apiToken(t, admin.token, ['STATS']);
    expect((await stats(range, adminStats)).total).toBe(9);
    const adminRead = await apiToken(t, admin.token, ['READ', 'DOWNLOAD', 'UPLOAD']);
    expect(errorCode(await t.gql(STATS, range, { token: adminRead }))).toBe('FORBIDDEN');
    const userStats = await apiToken(t, user.token, ['STATS']);
    expect(errorCode(await t.gql(STATS, range, { token: userStats }))).toBe('FORBIDDEN');

    // A STATS token follows its creator's role and ban, at once.
    const second = await t.signUp('second-admin@example.com');
    const setRole = `mutation($id: ID!, $role: Role!) { setUserRole(id: $id, role: $role) { id } }`;
    await t.gql(setRole, { id: second.id, role: 'ADMIN' }, { token: admin.token });
    const secondStats = await apiToken(t, second.token, ['STATS']);
    expect((await stats(range, secondStats)).total).toBe(9);
    await t.gql(setRole, { id: second.id, role: 'USER' }, { token: admin.token });
    expect(errorCode(await t.gql(STATS, range, { token: secondStats }))).toBe('FORBIDDEN');
    await t.gql(setRole, { id: second.id, role: 'ADMIN' }, { token: admin.token });
    expect((await stats(range, secondStats)).total).toBe(9);
    await t.gql(
      `mutation($id: ID!) { banUser(id: $id) { id } }`,
      { id: second.id },
      {
        token: admin.token,
      },
    );
    expect(errorCode(await t.gql(STATS, range, { token: secondStats }))).toBe('UNAUTHENTICATED');
  });
});

describe('downloadStats: a filter whose leading files are in the trash', () => {
  let t: TestServer;
  afterAll(() => t?.close());

  it('ranks past them: the trashed leaders count as deleted, whatever their number', async () => {
    t = await startTestServer();
    const admin = await t.signUp('admin@example.com');
    const files = await insertFiles(
      t,
      Array.from({ length: 12 }, (_, i) => ({ name: `f${i}.txt` })),
    );
    // insertFiles shares one blob row among its files without counting them: count them, so the
    // blob outlives the files sent to the trash.
    await t.server.connection.db.updateTable('blobs').set({ ref_count: files.length }).execute();
    const at = Date.parse('2026-01-10T12:00:00Z');
    await insertDownloads(
      t,
      files.flatMap((fileId, i) =>
        Array.from({ length: i < 10 ? 3 : 1 }, (_, k) => ({
          fileId,
          userId: Number(admin.id),
          at: at + k * 1000,
        })),
      ),
    );
    const trashed = await t.gql(
      `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`,
      { ids: files.slice(0, 10).map(String) },
      { token: admin.token },
    );
    expect(trashed.errors).toBeUndefined();
    const top = async (limit: number) =>
      (
        await t.data<{ downloadStats: { topFiles: { count: number; file: { name: string } }[] } }>(
          `query($userId: ID, $limit: Int) {
            downloadStats(from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", userId: $userId) {
              topFiles(limit: $limit) { count file { name } } } }`,
          { userId: admin.id, limit },
          { token: admin.token },
        )
      ).downloadStats.topFiles.map((f) => [f.file.name, f.count]);
    expect(await top(1)).toEqual([['f10.txt', 1]]);
    expect(await top(5)).toEqual([
      ['f10.txt', 1],
      ['f11.txt', 1],
    ]);
  });
});
