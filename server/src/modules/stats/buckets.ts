// Calendar intervals in UTC on epoch milliseconds. Plain arithmetic rather than a date library:
// date-fns works in the process's local time zone unless @date-fns/utc is added, and UTC hours,
// days and weeks are fixed lengths; only months need the calendar (Date.UTC).

export type StatsInterval = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-01 was a Thursday; ISO weeks start on Monday, four days later (1970-01-05). */
export const WEEK_OFFSET_MS = 4 * DAY_MS;

const floorTo = (ms: number, size: number, offset = 0) =>
  ms - ((((ms - offset) % size) + size) % size);

/** Months since 1970-01, the key the database groups months by (see stats.repository.ts). */
function monthIndex(ms: number): number {
  const d = new Date(ms);
  return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
}

const monthStart = (index: number) =>
  Date.UTC(1970 + Math.floor(index / 12), ((index % 12) + 12) % 12, 1);

/** The start of the interval holding `ms`. */
export function bucketStart(ms: number, interval: StatsInterval): number {
  switch (interval) {
    case 'HOUR':
      return floorTo(ms, HOUR_MS);
    case 'DAY':
      return floorTo(ms, DAY_MS);
    case 'WEEK':
      return floorTo(ms, WEEK_MS, WEEK_OFFSET_MS);
    case 'MONTH':
      return monthStart(monthIndex(ms));
  }
}

/** The start of the interval after the one starting at `start`. */
function nextBucket(start: number, interval: StatsInterval): number {
  switch (interval) {
    case 'HOUR':
      return start + HOUR_MS;
    case 'DAY':
      return start + DAY_MS;
    case 'WEEK':
      return start + WEEK_MS;
    case 'MONTH':
      return monthStart(monthIndex(start) + 1);
  }
}

/**
 * How many intervals [from, to) touches: from the one holding `from` to the one holding the last
 * millisecond before `to`. Computed without enumerating, so absurd ranges are refused cheaply.
 */
export function bucketCount(from: number, to: number, interval: StatsInterval): number {
  const first = bucketStart(from, interval);
  const last = bucketStart(to - 1, interval);
  if (interval === 'MONTH') return monthIndex(last) - monthIndex(first) + 1;
  const size = interval === 'HOUR' ? HOUR_MS : interval === 'DAY' ? DAY_MS : WEEK_MS;
  return (last - first) / size + 1;
}

/** The starts of every interval [from, to) touches, in order. */
export function bucketStarts(from: number, to: number, interval: StatsInterval): number[] {
  const starts: number[] = [];
  for (let s = bucketStart(from, interval); s < to; s = nextBucket(s, interval)) starts.push(s);
  return starts;
}
