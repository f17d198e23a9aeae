import type { Executor } from '../../db/database.js';
import { DAY_MS, HOUR_MS } from './buckets.js';
import { rawCounts, tagHoursCounts } from './rollups.repository.js';
import type { Ranked } from './rollups.repository.js';
import type { Counted } from './stats.repository.js';

// The k ids with the most downloads in [from, to), exactly, without counting every download of
// the range: a threshold walk (Fagin's threshold algorithm with one sorted list). Nothing
// downloaded more in a range than in all time, so walking the all-time totals from the top and
// counting each candidate's range exactly can stop as soon as the k-th best range count beats
// the all-time total of everything not walked yet. Downloads follow a power law: a year's top
// ten are found among the first few dozen of all time.
//
// What is ranked (all files, the users of one tag, ...) is a RankSource (rank-sources.ts). A
// candidate's range count is its day rows for the whole UTC days of the range, corrected by the
// downloads of the partial days at either end (splitRange), which the source counts raw or, for
// tags, from their hour rows. When the walk would read too many candidates (a range whose
// leaders are not the all-time leaders, say a quiet year long ago), it gives up and the caller
// counts the range directly, as exact and no slower than before the rollups.

/** Candidates counted per round: the first round covers a typical answer, later ones grow. */
const FIRST_ROUND = 32;
const MAX_ROUND = 1024;
/** Past this many candidates, counting the range's downloads directly is the cheaper way. */
const MAX_CANDIDATES = 8192;

/** What one walk ranks: ids with an all-time ranking and day rows. */
export interface RankSource {
  /**
   * The next `limit` ids with downloads, most downloads of all time first, then by id, after the
   * position `after` (exclusive).
   */
  ranked(after: Ranked | null, limit: number): Promise<Ranked[]>;
  /** Downloads of each of `ids` over the whole UTC days [fromDay, toDay). */
  days(ids: number[], fromDay: number, toDay: number): Promise<Map<number, number>>;
  /** Downloads of each of `ids` in `edge`, less than a day; the map may hold other ids too. */
  edges(ids: number[], edge: Interval): Promise<Map<number, number>>;
  /**
   * A download counts for one id at most, so the ids' range counts add up to at most the range
   * total and the walk can stop once they reach it.
   */
  bounded: boolean;
}

/** Most first, then by id: the order every top list answers in. */
export const before = (a: Counted, b: Counted) => b.count - a.count || a.id - b.id;

/**
 * The `limit` ids of `source` with the most downloads in [from, to), most first then by id,
 * counts above zero; null when the range holds no whole day or the walk gives up (see above).
 * `rangeTotal` answers how many downloads the range holds among those `source` splits (all, or
 * those of the filter): what a bounded source's counts add up to at most.
 */
export async function thresholdTop(
  source: RankSource,
  from: number,
  to: number,
  limit: number,
  rangeTotal: () => Promise<number>,
): Promise<Counted[] | null> {
  if (Math.ceil(from / DAY_MS) >= Math.floor(to / DAY_MS)) return null;
  // A quiet range, whose few downloaders are not the all-time leaders, would walk up to
  // MAX_CANDIDATES (hundreds of ms on PostgreSQL) to find fewer than `limit` of them. When a
  // download counts for one id at most, once the counts found add up to all the range's
  // downloads, nothing unwalked has any. (A download counts once for each tag of its file, so
  // for tags only an empty range ends the walk early.)
  const total = await rangeTotal();
  if (total === 0) return [];
  let found = 0;
  const { whole: days, edges } = splitRange(from, to, DAY_MS);
  const countRange = async (ids: number[]) => {
    const [whole, parts] = await Promise.all([
      source.days(ids, days.from, days.to),
      Promise.all(edges.map((e) => source.edges(ids, e))),
    ]);
    return ids.map((id) => ({ id, count: signedSum(id, whole, edges, parts) }));
  };

  let best: Counted[] = [];
  let last: Ranked | null = null;
  let walked = 0;
  for (let round = FIRST_ROUND; walked < MAX_CANDIDATES; round = Math.min(round * 2, MAX_ROUND)) {
    const batch = await source.ranked(last, round);
    if (!batch.length) return best;
    walked += batch.length;
    last = batch.at(-1)!;
    const counted = (await countRange(batch.map((r) => r.id))).filter((c) => c.count > 0);
    best = [...best, ...counted].sort(before).slice(0, limit);
    found += counted.reduce((sum, c) => sum + c.count, 0);
    if (source.bounded && found >= total) return best;
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

export interface Interval {
  from: number;
  to: number;
}
export type Edge = Interval & { sign: 1 | -1 };

/** `whole`'s count of `id` plus or minus its count in each edge. */
export const signedSum = (
  id: number,
  whole: Map<number, number>,
  edges: Edge[],
  parts: Map<number, number>[],
) => edges.reduce((n, e, i) => n + e.sign * (parts[i]!.get(id) ?? 0), whole.get(id) ?? 0);

/**
 * Downloads of every tag in an interval of less than a day: its whole UTC hours from the tags'
 * hour rows, the partial hours raw (each under half an hour, by the same split as the days).
 */
export async function tagCounts(db: Executor, range: Interval): Promise<Map<number, number>> {
  const { whole, edges } = splitRange(range.from, range.to, HOUR_MS);
  const [hours, parts] = await Promise.all([
    tagHoursCounts(db, whole.from, whole.to),
    Promise.all(edges.map((e) => rawCounts(db, 'tag', null, e.from, e.to))),
  ]);
  const ids = new Set([...hours.keys(), ...parts.flatMap((p) => [...p.keys()])]);
  return new Map([...ids].map((id) => [id, signedSum(id, hours, edges, parts)]));
}

/**
 * [from, to) as whole units (UTC days or hours) plus or minus raw intervals of at most half a
 * unit each: a partial unit at either end is either counted raw, or its whole unit is taken and
 * the part outside the range counted raw and subtracted, whichever reads fewer downloads. A
 * range ending now subtracts nothing at its end (nothing was downloaded after now). A range
 * inside one unit comes out right too: its whole part is then empty or the one unit, and the
 * edges make up the rest.
 */
export function splitRange(
  from: number,
  to: number,
  unit: number,
): { whole: Interval; edges: Edge[] } {
  const edges: Edge[] = [];
  let wholeFrom = Math.ceil(from / unit) * unit;
  let wholeTo = Math.floor(to / unit) * unit;
  if (wholeFrom - from > unit / 2) {
    wholeFrom -= unit;
    edges.push({ from: wholeFrom, to: from, sign: -1 });
  } else if (wholeFrom > from) edges.push({ from, to: wholeFrom, sign: 1 });
  if (to - wholeTo > unit / 2) {
    edges.push({ from: to, to: wholeTo + unit, sign: -1 });
    wholeTo += unit;
  } else if (to > wholeTo) edges.push({ from: wholeTo, to, sign: 1 });
  return { whole: { from: wholeFrom, to: wholeTo }, edges };
}
