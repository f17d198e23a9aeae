import type { Executor, RollupKind } from '../../db/database.js';
import { DAY_MS } from './buckets.js';
import { daysCounts, rankedTotals, rawCounts, type Ranked } from './rollups.repository.js';
import type { Counted } from './stats.repository.js';

// The k files, users or tags with the most downloads in [from, to), exactly, without counting
// every download of the range: a threshold walk (Fagin's threshold algorithm with one sorted
// list). Nothing downloaded more in a range than in all time, so walking the all-time totals
// from the top and counting each candidate's range exactly can stop as soon as the k-th best
// range count beats the all-time total of everything not walked yet. Downloads follow a
// power law: a year's top ten are found among the first few dozen of all time.
//
// A candidate's range count is its day rows for the whole UTC days of the range plus the raw
// downloads of the partial days at either end. When the walk would read too many candidates (a
// range whose leaders are not the all-time leaders, say a quiet year long ago), it gives up and
// the caller counts the range directly, as exact and no slower than before the rollups.

/** Candidates counted per round: the first round covers a typical answer, later ones grow. */
const FIRST_ROUND = 32;
const MAX_ROUND = 1024;
/** Past this many candidates, counting the range's downloads directly is the cheaper way. */
const MAX_CANDIDATES = 8192;

/** Most first, then by id: the order every top list answers in. */
const before = (a: Counted, b: Counted) => b.count - a.count || a.id - b.id;

/**
 * The `limit` ids of `kind` with the most downloads in [from, to), most first then by id, counts
 * above zero; null when the range holds no whole day or the walk gives up (see above).
 */
export async function thresholdTop(
  db: Executor,
  kind: RollupKind,
  from: number,
  to: number,
  limit: number,
): Promise<Counted[] | null> {
  const fromDay = Math.ceil(from / DAY_MS) * DAY_MS;
  const toDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (fromDay >= toDay) return null;

  // Tags' partial days are counted once for every tag (rawCounts says why).
  const tagEdges =
    kind === 'tag'
      ? Promise.all([
          rawCounts(db, kind, null, from, fromDay),
          rawCounts(db, kind, null, toDay, to),
        ])
      : null;
  const countRange = async (ids: number[]) => {
    const [days, [head, tail]] = await Promise.all([
      daysCounts(db, kind, ids, fromDay, toDay),
      tagEdges ??
        Promise.all([rawCounts(db, kind, ids, from, fromDay), rawCounts(db, kind, ids, toDay, to)]),
    ]);
    return ids.map((id) => ({
      id,
      count: (days.get(id) ?? 0) + (head.get(id) ?? 0) + (tail.get(id) ?? 0),
    }));
  };

  let best: Counted[] = [];
  let last: Ranked | null = null;
  let walked = 0;
  for (let round = FIRST_ROUND; walked < MAX_CANDIDATES; round = Math.min(round * 2, MAX_ROUND)) {
    const batch = await rankedTotals(db, kind, last, round);
    if (!batch.length) return best;
    walked += batch.length;
    last = batch.at(-1)!;
    const counted = await countRange(batch.map((r) => r.id));
    best = [...best, ...counted.filter((c) => c.count > 0)].sort(before).slice(0, limit);
    // Everything not walked has an all-time total of at most last.total, and at exactly that
    // total an id after last.id: none of it can displace a k-th best that beats that.
    const kth = best[limit - 1];
    if (kth && (kth.count > last.total || (kth.count === last.total && kth.id < last.id))) {
      return best;
    }
    if (batch.length < round) return best;
  }
  return null;
}
