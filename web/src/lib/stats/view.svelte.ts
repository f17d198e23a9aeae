import { setParams } from '$lib/components/url';
import {
  formatUtcDate,
  INTERVALS,
  MAX_POINTS,
  pointCount,
  PRESETS,
  rangeOf,
  type Interval,
  type Preset,
} from './range';

/** A filter of the statistics: the id, and the name shown for it once known. */
export interface StatsFilter {
  id: string;
  label: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const none = (): StatsFilter => ({ id: '', label: '' });
const defaultInterval = (preset: Preset) => PRESETS.find((p) => p.id === preset)!.interval;

/**
 * What the statistics page shows: range, interval and filters, kept in the address bar
 * (?range=30d&interval=DAY&from=…&to=…&file=…&tag=…&user=…) so a view can be shared or reloaded.
 */
export class StatsView {
  preset = $state<Preset>('30d');
  interval = $state<Interval>('DAY');
  customFrom = $state('');
  customTo = $state('');
  file = $state<StatsFilter>(none());
  tag = $state<StatsFilter>(none());
  user = $state<StatsFilter>(none());
  /** "Now" moves on when the admin asks for fresh numbers. */
  now = $state(Date.now());

  readonly range = $derived(
    rangeOf(this.preset, { from: this.customFrom, to: this.customTo }, this.now),
  );
  readonly noun = $derived(INTERVALS.find((i) => i.id === this.interval)!.noun);
  readonly filtered = $derived(!!(this.file.id || this.tag.id || this.user.id));
  /** The downloadStats variables, or null while the custom range is invalid. */
  readonly variables = $derived(
    this.range
      ? {
          from: iso(this.range.from),
          to: iso(this.range.to),
          interval: this.interval,
          fileId: this.file.id || null,
          tagId: this.tag.id || null,
          userId: this.user.id || null,
        }
      : null,
  );

  constructor(params: URLSearchParams) {
    this.preset = PRESETS.find((p) => p.id === params.get('range'))?.id ?? '30d';
    this.interval =
      INTERVALS.find((i) => i.id === params.get('interval'))?.id ?? defaultInterval(this.preset);
    this.customFrom = params.get('from') ?? formatUtcDate(Date.now() - 13 * 86_400_000);
    this.customTo = params.get('to') ?? formatUtcDate(Date.now());
    this.file = { id: params.get('file') ?? '', label: '' };
    this.tag = { id: params.get('tag') ?? '', label: '' };
    this.user = { id: params.get('user') ?? '', label: '' };
  }

  /** Whether `interval` would give more points than the server draws for this range. */
  tooMany(interval: Interval): boolean {
    return !!this.range && pointCount(this.range, interval) > MAX_POINTS;
  }

  choosePreset(next: Preset): void {
    this.preset = next;
    this.interval = defaultInterval(next);
    if (this.tooMany(this.interval)) this.interval = 'DAY';
    this.now = Date.now();
    this.sync();
  }

  chooseInterval(next: Interval): void {
    if (this.tooMany(next)) return;
    this.interval = next;
    this.sync();
  }

  /** After a custom date changed: fall back to days when the interval no longer fits. */
  datesChanged(): void {
    if (this.tooMany(this.interval)) this.interval = 'DAY';
    this.sync();
  }

  setFilter(kind: 'file' | 'tag' | 'user', next: StatsFilter): void {
    this[kind] = next;
    this.sync();
  }

  /** Selecting the current filter again clears it. */
  toggleFilter(kind: 'file' | 'tag' | 'user', id: string, label: string): void {
    this.setFilter(kind, this[kind].id === id ? none() : { id, label });
  }

  clearFilters(): void {
    this.file = none();
    this.tag = none();
    this.user = none();
    this.sync();
  }

  refresh(): void {
    this.now = Date.now();
  }

  private sync(): void {
    void setParams({
      range: this.preset === '30d' ? null : this.preset,
      interval: this.interval === defaultInterval(this.preset) ? null : this.interval,
      from: this.preset === 'custom' ? this.customFrom : null,
      to: this.preset === 'custom' ? this.customTo : null,
      file: this.file.id || null,
      tag: this.tag.id || null,
      user: this.user.id || null,
    });
  }
}
