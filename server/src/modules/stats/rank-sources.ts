import type { Executor, RollupKind } from '../../db/database.js';
import {
  CO_TAGS,
  coTagRaw,
  crossDays,
  rankedCross,
  TAG_USERS,
  tagUserRaw,
  USER_TAGS,
  userTagRaw,
} from './cross-rollups.repository.js';
import { daysCounts, rankedTotals, rawCounts } from './rollups.repository.js';
import { tagCounts, type Interval, type RankSource } from './threshold-top.js';

// What the threshold walk (threshold-top.ts) ranks: all files, users or tags (download_totals),
// the files of one tag (the same ranking, probing each file's links), and from the cross
// rollups a tag's users, a user's tags and a tag's co-tags. Build one per walk: the sources
// that count an interval for every id at once keep each count for the walk's later rounds.

type Counts = Map<number, number>;

/**
 * Edges counted for every id at once, each interval once a walk. Where a download counts for
 * each tag of its file, a list of tag ids would probe each download's links once per id, and the
 * next round would read the same downloads again.
 */
function forAllIds(count: (e: Interval) => Promise<Counts>): RankSource['edges'] {
  const counted = new Map<string, Promise<Counts>>();
  return (_ids, e) => {
    const key = `${e.from}:${e.to}`;
    let counts = counted.get(key);
    if (!counts) counted.set(key, (counts = count(e)));
    return counts;
  };
}

/** Every file, user or tag. A download counts once for each tag of its file. */
export const rollupSource = (db: Executor, kind: RollupKind): RankSource => ({
  ranked: (after, limit) => rankedTotals(db, kind, after, limit),
  days: (ids, fromDay, toDay) => daysCounts(db, kind, ids, fromDay, toDay),
  edges:
    kind === 'tag'
      ? forAllIds((e) => tagCounts(db, e))
      : (ids, e) => rawCounts(db, kind, ids, e.from, e.to),
  bounded: kind !== 'tag',
});

/**
 * The files carrying tag `tagId`: they split its downloads between them as all files split all,
 * with the tag's own total as the range total.
 */
export const filesOfTag = (db: Executor, tagId: number): RankSource => ({
  ...rollupSource(db, 'file'),
  ranked: (after, limit) => rankedTotals(db, 'file', after, limit, tagId),
});

/**
 * The users who downloaded tag `tagId`'s files: a download of them counts for one user at most
 * (anonymous ones for none), so with the tag's total as the range total the walk is bounded.
 */
export const usersOfTag = (db: Executor, tagId: number): RankSource => ({
  ranked: (after, limit) => rankedCross(db, TAG_USERS, tagId, after, limit),
  days: (ids, fromDay, toDay) => crossDays(db, TAG_USERS, tagId, ids, fromDay, toDay),
  edges: (ids, e) => tagUserRaw(db, tagId, ids, e.from, e.to),
  bounded: true,
});

/** The tags of the files user `userId` downloaded: a download counts for each tag of its file. */
export const tagsOfUser = (db: Executor, userId: number): RankSource => ({
  ranked: (after, limit) => rankedCross(db, USER_TAGS, userId, after, limit),
  days: (ids, fromDay, toDay) => crossDays(db, USER_TAGS, userId, ids, fromDay, toDay),
  edges: forAllIds((e) => userTagRaw(db, userId, e.from, e.to)),
  bounded: false,
});

/**
 * The other tags of tag `tagId`'s files, each counting the downloads of the files carrying both.
 * Not the tag itself, which counts every download of its files (the caller adds it).
 */
export const coTagsOf = (db: Executor, tagId: number): RankSource => ({
  ranked: (after, limit) => rankedCross(db, CO_TAGS, tagId, after, limit),
  days: (ids, fromDay, toDay) => crossDays(db, CO_TAGS, tagId, ids, fromDay, toDay),
  edges: forAllIds((e) => coTagRaw(db, tagId, e.from, e.to)),
  bounded: false,
});
