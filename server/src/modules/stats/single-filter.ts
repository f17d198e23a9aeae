import type { Executor, RollupKind } from '../../db/database.js';
import { bucketStart, DAY_MS, type StatsInterval } from './buckets.js';
import { dayRows, rawCounts } from './rollups.repository.js';
import type { BucketCount, StatsFilter } from './stats.repository.js';
import { splitRange, tagCounts } from './threshold-top.js';

// A range filtered by one file, one user or one tag is that id's row of the rollups: its series
// comes from its day rows as the unfiltered top lists count a candidate (threshold-top.ts), so a
// year of the largest tag (~1.5 million downloads in the bench library) reads ~365 rows instead
// of every download of its files. Filters combined, and hourly series, count `downloads`.

/** The rollup row a filter names. */
export interface OneOf {
  kind: RollupKind;
  id: number;
}

/** The one id a filter names, or null when it names none or several. */
export function singleFilter(f: StatsFilter): OneOf | null {
  const named = (
    [
      ['file', f.fileId],
      ['user', f.userId],
      ['tag', f.tagId],
    ] as const
  ).filter(([, id]) => id != null);
  if (named.length !== 1) return null;
  const [kind, id] = named[0]!;
  return { kind, id: id! };
}

/**
 * The downloads of `one` per interval over [from, to): its day rows for the whole UTC days, and
 * the partial days at either end raw (tags: their hours, then partial hours raw), each added to
 * the interval holding its day. Null for hourly series and ranges without a whole day, which the
 * caller counts directly.
 */
export async function seriesFromDays(
  db: Executor,
  one: OneOf,
  interval: StatsInterval,
  from: number,
  to: number,
): Promise<BucketCount[] | null> {
  if (interval === 'HOUR' || Math.ceil(from / DAY_MS) >= Math.floor(to / DAY_MS)) return null;
  const { whole, edges } = splitRange(from, to, DAY_MS);
  const [days, parts] = await Promise.all([
    dayRows(db, one.kind, one.id, whole.from, whole.to),
    Promise.all(
      edges.map((e) =>
        one.kind === 'tag' ? tagCounts(db, e) : rawCounts(db, one.kind, [one.id], e.from, e.to),
      ),
    ),
  ]);
  const counts = new Map<number, number>();
  const add = (at: number, n: number) => {
    const start = bucketStart(at, interval);
    counts.set(start, (counts.get(start) ?? 0) + n);
  };
  for (const d of days) add(d.day, d.downloads);
  // An edge lies within one UTC day, whose interval is that of its day row.
  edges.forEach((e, i) => add(e.from, e.sign * (parts[i]!.get(one.id) ?? 0)));
  return [...counts].map(([start, count]) => ({ start, count }));
}
