import type { Dialect } from '../../db/connection.js';
import type { Db } from '../../db/database.js';
import { BadUserInputError, ForbiddenError } from '../../errors.js';
import { seesHiddenFiles } from '../auth/visibility.js';
import type { Viewer } from '../auth/viewer.js';
import { bucketCount, bucketStarts, DAY_MS, type StatsInterval } from './buckets.js';
import type { RollupKind, TagRow } from '../../db/database.js';
import { withTagRows } from '../tags/tags.repository.js';
import {
  countLinkDownloads,
  countUniqueUsers,
  downloadsByBucket,
  topDownloadedFiles,
  topDownloadedTags,
  topDownloaders,
  type Counted,
  type StatsFilter,
} from './stats.repository.js';
import { before, thresholdTop, type RankSource } from './threshold-top.js';
import { coTagsOf, filesOfTag, rollupSource, tagsOfUser, usersOfTag } from './rank-sources.js';
import { seriesFromDays, singleFilter } from './single-filter.js';
import { findFileById, tagIdsOfFile } from '../files/files.repository.js';

export const MAX_POINTS = 1000;
export const DEFAULT_RANGE_MS = 30 * DAY_MS;
export const MAX_TOP_FILES = 100;
/** The same cap for topUsers and topTags. */
export const MAX_TOP = MAX_TOP_FILES;

export interface StatsArgs {
  from?: Date | null;
  to?: Date | null;
  interval?: StatsInterval | null;
  fileId?: number | null;
  tagId?: number | null;
  userId?: number | null;
}

/** One downloadStats answer; each part is computed only when a field asks for it. */
export interface DownloadStats {
  series(): Promise<{ start: number; count: number }[]>;
  total(): Promise<number>;
  uniqueUsers(): Promise<number>;
  viaLinks(): Promise<number>;
  topFiles(limit: number): Promise<{ fileId: number; count: number }[]>;
  topUsers(limit: number): Promise<{ userId: number; count: number }[]>;
  topTags(limit: number): Promise<{ tag: TagRow; count: number }[]>;
}

function checkLimit(limit: number) {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_TOP) {
    throw BadUserInputError.field('limit', `must be between 1 and ${MAX_TOP}`);
  }
}

/**
 * Validates a stats request: [from, to) with to defaulting to now and from to 30 days before to;
 * the series runs from the interval holding `from` to the one holding the last instant before
 * `to`, at most 1,000 points.
 */
function resolveStatsRange(args: StatsArgs, now = Date.now()) {
  const interval = args.interval ?? 'DAY';
  const to = args.to?.getTime() ?? now;
  const from = args.from?.getTime() ?? to - DEFAULT_RANGE_MS;
  if (from >= to) throw BadUserInputError.field('to', 'must be after from');
  const points = bucketCount(from, to, interval);
  if (points > MAX_POINTS) {
    throw BadUserInputError.field(
      'interval',
      `the range holds ${points} ${interval.toLowerCase()} intervals; at most ${MAX_POINTS} are allowed`,
    );
  }
  return { interval, from, to };
}

/**
 * `fold` brings the tags' rollups up to date with their links (tag-moves.ts) before a request
 * reads any of them; it writes, so it gets the writing connection.
 */
export function createStatsService(
  db: Db,
  dialect: Dialect,
  fold: () => Promise<unknown> = async () => {},
) {
  return {
    downloadStats(viewer: Viewer | null, args: StatsArgs): DownloadStats {
      // Every count here includes HIDDEN files: only a viewer who sees them may read any.
      if (!seesHiddenFiles(viewer)) throw new ForbiddenError();
      const { interval, from, to } = resolveStatsRange(args);
      const filter: StatsFilter = {
        from,
        to,
        fileId: args.fileId,
        tagId: args.tagId,
        userId: args.userId,
      };
      const one = singleFilter(filter);
      // Once per request, before the first read of rollups.
      let folded: Promise<unknown> | undefined;
      const upToDate = () => (folded ??= fold());
      // A file in the trash keeps its downloads' file_id until the purge; like a deleted file
      // (or an unknown id) it has no downloads here.
      const fileId = args.fileId;
      let noFile: Promise<boolean> | undefined;
      const unlessNoFile =
        <T>(none: T, read: () => Promise<T>) =>
        async (): Promise<T> => {
          if (fileId != null && (await (noFile ??= findFileById(db, fileId).then((f) => !f))))
            return none;
          return read();
        };
      const bucketRows = unlessNoFile([], async () => {
        await upToDate();
        return (
          (one && (await seriesFromDays(db, one, interval, from, to))) ??
          downloadsByBucket(db, dialect, interval, filter)
        );
      });
      let series: Promise<{ start: number; count: number }[]> | undefined;
      const loadSeries = () =>
        (series ??= bucketRows().then((rows) => {
          const counts = new Map<number, number>();
          for (const r of rows) counts.set(r.start, (counts.get(r.start) ?? 0) + r.count);
          return bucketStarts(from, to, interval).map((start) => ({
            start,
            count: counts.get(start) ?? 0,
          }));
        }));
      const total = async () => (await loadSeries()).reduce((sum, p) => sum + p.count, 0);
      // Unfiltered top lists, a tag's files, users and co-tags, and a user's tags walk the
      // rollups (threshold-top.ts); a list of what the filter names is that one id; the rest,
      // and ranges the walk gives up on, count the range's downloads through the index of their
      // filter.
      const unfiltered = args.fileId == null && args.tagId == null && args.userId == null;
      const walkable = (kind: RollupKind): RankSource | null => {
        if (unfiltered) return rollupSource(db, kind);
        if (one?.kind === 'tag') {
          if (kind === 'file') return filesOfTag(db, one.id);
          return kind === 'user' ? usersOfTag(db, one.id) : coTagsOf(db, one.id);
        }
        return one?.kind === 'user' && kind === 'tag' ? tagsOfUser(db, one.id) : null;
      };
      const top = async (kind: RollupKind, limit: number, direct: () => Promise<Counted[]>) => {
        checkLimit(limit);
        await upToDate();
        if (one?.kind === kind && kind !== 'tag') {
          const count = await total();
          return count > 0 ? [{ id: one.id, count }] : [];
        }
        if (one?.kind === 'file' && kind === 'tag') return tagsOfOneFile(one.id, limit);
        const source = walkable(kind);
        const walked = source && (await thresholdTop(source, from, to, limit, total));
        if (!walked) return direct();
        return one?.kind === 'tag' && kind === 'tag' ? withOwnTag(one.id, walked, limit) : walked;
      };
      // The co-tags leave out the tag itself. It counts every download of its files, so no
      // co-tag has more; one carried by all of them ties it, and comes first with a smaller id.
      const withOwnTag = async (tagId: number, coTags: Counted[], limit: number) => {
        const count = await total();
        if (!count) return coTags;
        return [...coTags, { id: tagId, count }].sort(before).slice(0, limit);
      };
      // Every download of a file counts for each tag it carries now, so they share its count.
      const tagsOfOneFile = async (fileId: number, limit: number): Promise<Counted[]> => {
        const count = await total();
        if (!count) return [];
        const ids = (await tagIdsOfFile(db, fileId)).sort((a, b) => a - b).slice(0, limit);
        return ids.map((id) => ({ id, count }));
      };
      return {
        series: loadSeries,
        total,
        uniqueUsers: unlessNoFile(0, async () =>
          one?.kind === 'user' ? Math.min(await total(), 1) : countUniqueUsers(db, filter),
        ),
        viaLinks: unlessNoFile(0, () => countLinkDownloads(db, filter)),
        topFiles: async (limit) =>
          (await top('file', limit, () => topDownloadedFiles(db, filter, limit))).map((c) => ({
            fileId: c.id,
            count: c.count,
          })),
        topUsers: async (limit) =>
          (
            await top(
              'user',
              limit,
              unlessNoFile([], () => topDownloaders(db, filter, limit)),
            )
          ).map((c) => ({
            userId: c.id,
            count: c.count,
          })),
        // A tag deleted between the two queries is simply left out.
        topTags: async (limit) =>
          withTagRows(
            db,
            (await top('tag', limit, () => topDownloadedTags(db, filter, limit))).map((c) => ({
              tagId: c.id,
              count: c.count,
            })),
          ),
      };
    },
  };
}
