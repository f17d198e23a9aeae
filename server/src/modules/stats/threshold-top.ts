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
// A candidate's range count is its day rows for the whole UTC days of the range, corrected by
// raw downloads at either end (splitRange). When the walk would read too many candidates (a
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
  if (Math.ceil(from / DAY_MS) >= Math.floor(to / DAY_MS)) return null;
  const { days, edges } = splitRange(from, to);

  // Tags' partial days are counted once for every tag (rawCounts says why).
  const countEdges = (ids: number[] | null) =>
    Promise.all(edges.map((e) => rawCounts(db, kind, ids, e.from, e.to)));
  const tagEdges = kind === 'tag' ? countEdges(null) : null;
  const countRange = async (ids: number[]) => {
    const [whole, parts] = await Promise.all([
      daysCounts(db, kind, ids, days.from, days.to),
      tagEdges ?? countEdges(ids),
    ]);
    return ids.map((id) => ({
      id,
      count: edges.reduce((n, e, i) => n + e.sign * (parts[i]!.get(id) ?? 0), whole.get(id) ?? 0),
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

/**
 * [from, to) as whole UTC days plus or minus raw intervals of less than half a day each: a partial
 * day at either end is either counted raw, or its whole day row is taken and the part outside
 * the range counted raw and subtracted, whichever reads fewer downloads. A range ending now
 * subtracts nothing at its end (nothing was downloaded after now).
 */
function splitRange(from: number, to: number) {
  const edges: { from: number; to: number; sign: 1 | -1 }[] = [];
  let dayFrom = Math.ceil(from / DAY_MS) * DAY_MS;
  let dayTo = Math.floor(to / DAY_MS) * DAY_MS;
  if (dayFrom - from > DAY_MS / 2) {
    dayFrom -= DAY_MS;
    edges.push({ from: dayFrom, to: from, sign: -1 });
  } else if (dayFrom > from) edges.push({ from, to: dayFrom, sign: 1 });
  if (to - dayTo > DAY_MS / 2) {
    edges.push({ from: to, to: dayTo + DAY_MS, sign: -1 });
    dayTo += DAY_MS;
  } else if (to > dayTo) edges.push({ from: dayTo, to, sign: 1 });
  return { days: { from: dayFrom, to: dayTo }, edges };
}
