import type { Dialect } from '../src/db/connection.js';
import type { Db, UserRow } from '../src/db/database.js';
import type { Viewer } from '../src/modules/auth/viewer.js';
import type { StatsInterval } from '../src/modules/stats/buckets.js';
import { createStatsService } from '../src/modules/stats/stats.service.js';

// The downloadStats shapes of `npm run bench -- queries` (STATS.md): a year by DAY alone and with
// each top list, with all three, a month, and each filter. Each case's bare SQL is what the stats
// service issues for the fields the query asks, captured on the logging connection.

export interface StatsBenchCase {
  name: string;
  as: 'admin';
  query: string;
  variables: Record<string, unknown>;
  capture(db: Db): Promise<void>;
}

type Part = 'series' | 'topFiles' | 'topUsers' | 'topTags';
const FIELDS: Record<Part, string> = {
  series: 'total uniqueUsers series { start count }',
  topFiles: 'topFiles(limit: 10) { count file { id name } }',
  topUsers: 'topUsers(limit: 10) { count user { id name } }',
  topTags: 'topTags(limit: 10) { count tag { id name } }',
};

const DAY_MS = 86_400_000;

/** `adminRow`: the seeded library's admin, as queries.ts found it for its sessions. */
export async function statsCases(
  db: Db,
  dialect: Dialect,
  adminRow: UserRow,
): Promise<StatsBenchCase[]> {
  const admin: Viewer = { kind: 'token', user: adminRow, tokenId: 0, scopes: ['STATS'] };
  // The most downloaded file and user, and the largest topical tag: the heaviest filters.
  const busiest = async (table: 'files' | 'users') =>
    (
      await db
        .selectFrom(table)
        .select('id')
        .orderBy('download_count', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow()
    ).id;
  const fileId = await busiest('files');
  const userId = await busiest('users');
  const tag = await db
    .selectFrom('tags')
    .select(['id', 'name'])
    .where('name_key', 'not in', ['image', 'video', 'audio', 'other'])
    .orderBy('files_active', 'desc')
    .executeTakeFirstOrThrow();

  const to = Date.now();
  const year = { from: to - 365 * DAY_MS, to };
  const month = { from: to - 30 * DAY_MS, to };
  const statsCase = (
    name: string,
    range: { from: number; to: number },
    parts: Part[],
    filter: { fileId?: number; userId?: number; tagId?: number } = {},
  ): StatsBenchCase => {
    const interval: StatsInterval = 'DAY';
    return {
      name: `downloadStats, ${name}`,
      as: 'admin',
      query: `query($from: DateTime, $to: DateTime, $fileId: ID, $userId: ID, $tagId: ID) {
        downloadStats(from: $from, to: $to, interval: DAY, fileId: $fileId, userId: $userId, tagId: $tagId) {
          ${parts.map((p) => FIELDS[p]).join(' ')} } }`,
      variables: {
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
        fileId: filter.fileId == null ? null : String(filter.fileId),
        userId: filter.userId == null ? null : String(filter.userId),
        tagId: filter.tagId == null ? null : String(filter.tagId),
      },
      async capture(d) {
        const s = createStatsService(d, dialect).downloadStats(admin, {
          from: new Date(range.from),
          to: new Date(range.to),
          interval,
          ...filter,
        });
        await Promise.all(
          parts.map((p) =>
            p === 'series'
              ? Promise.all([s.series(), s.uniqueUsers()])
              : p === 'topFiles'
                ? s.topFiles(10)
                : p === 'topUsers'
                  ? s.topUsers(10)
                  : s.topTags(10),
          ),
        );
      },
    };
  };
  const all: Part[] = ['series', 'topFiles', 'topUsers', 'topTags'];
  return [
    statsCase('a year by DAY', year, ['series']),
    statsCase('a year by DAY + topFiles', year, ['series', 'topFiles']),
    statsCase('a year by DAY + topUsers', year, ['series', 'topUsers']),
    statsCase('a year by DAY + topTags', year, ['series', 'topTags']),
    statsCase('a year by DAY + top files, users, tags', year, all),
    statsCase('a month by DAY + top files, users, tags', month, all),
    statsCase('a year, busiest file + top lists', year, all, { fileId }),
    statsCase('a year, busiest user + top lists', year, all, { userId }),
    statsCase(`a year, tag ${tag.name} + top lists`, year, all, { tagId: tag.id }),
    // The statistics page asks for its figures and each list apart: what it waits for per part.
    statsCase('a year, busiest user: series alone', year, ['series'], { userId }),
    ...(['series', 'topFiles', 'topUsers', 'topTags'] as const).map((part) =>
      statsCase(`a year, tag ${tag.name}: ${part} alone`, year, [part], { tagId: tag.id }),
    ),
  ];
}
