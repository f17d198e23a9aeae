// Date ranges of the statistics page. Download buckets are UTC calendar intervals (StatsInterval
// in schema.graphql), so ranges are built in UTC too: "last 7 days" is today (UTC) and the six UTC days before it.

export type Interval = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';
export type Preset = '24h' | '7d' | '30d' | '90d' | '12m' | 'custom';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The server refuses a series of more than this many points. */
export const MAX_POINTS = 1000;

export const PRESETS: { id: Preset; label: string; short: string; interval: Interval }[] = [
  { id: '24h', label: 'Last 24 hours', short: '24h', interval: 'HOUR' },
  { id: '7d', label: 'Last 7 days', short: '7d', interval: 'DAY' },
  { id: '30d', label: 'Last 30 days', short: '30d', interval: 'DAY' },
  { id: '90d', label: 'Last 90 days', short: '90d', interval: 'WEEK' },
  { id: '12m', label: 'Last 12 months', short: '12m', interval: 'MONTH' },
  { id: 'custom', label: 'Custom range', short: 'Custom', interval: 'DAY' },
];

export const INTERVALS: { id: Interval; label: string; noun: string }[] = [
  { id: 'HOUR', label: 'Hour', noun: 'hour' },
  { id: 'DAY', label: 'Day', noun: 'day' },
  { id: 'WEEK', label: 'Week', noun: 'week' },
  { id: 'MONTH', label: 'Month', noun: 'month' },
];

const startOfUtcDay = (ms: number) => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);

/** "2026-11-25" (a UTC calendar date) → epoch ms of its midnight UTC; NaN when malformed. */
export function parseUtcDate(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
}

/** Epoch ms → "2026-11-25" in UTC. */
export function formatUtcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * [from, to) of a preset, ending now; a custom range runs from the first day's midnight to the
 * midnight after the last day (both UTC).
 */
export function rangeOf(
  preset: Preset,
  custom: { from: string; to: string },
  now = Date.now(),
): { from: number; to: number } | null {
  const today = startOfUtcDay(now);
  switch (preset) {
    case '24h':
      return { from: now - (now % HOUR_MS) - 23 * HOUR_MS, to: now };
    case '7d':
      return { from: today - 6 * DAY_MS, to: now };
    case '30d':
      return { from: today - 29 * DAY_MS, to: now };
    case '90d':
      return { from: today - 89 * DAY_MS, to: now };
    case '12m': {
      const d = new Date(now);
      return { from: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 11, 1), to: now };
    }
    case 'custom': {
      const from = parseUtcDate(custom.from);
      const last = parseUtcDate(custom.to);
      if (Number.isNaN(from) || Number.isNaN(last) || last < from) return null;
      return { from, to: last + DAY_MS };
    }
  }
}

/** Roughly how many points a range has at an interval (enough to keep under MAX_POINTS). */
export function pointCount(range: { from: number; to: number }, interval: Interval): number {
  const span = range.to - range.from;
  const size = { HOUR: HOUR_MS, DAY: DAY_MS, WEEK: 7 * DAY_MS, MONTH: 28 * DAY_MS }[interval];
  return Math.ceil(span / size) + 1;
}
