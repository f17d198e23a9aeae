import { setParams } from '$lib/components/url';
import { formatBytes, formatDateTime } from '$lib/format';

/** Actions to filter by; a trailing dot stands for the whole group. */
export const ACTIONS = [
  'user.',
  'user.ban',
  'user.unban',
  'user.role',
  'user.quota',
  'file.',
  'file.status',
  'file.delete',
  'file.restore',
  'file.purge',
  'tag.',
  'token.',
  'share.',
  'auth.',
  'auth.login_failed',
  'auth.locked',
] as const;

/** The log's filters, kept in the address bar: `?action=&actor=&by=&from=&to=` (dates as days). */
export interface AuditFilter {
  action: string;
  /** The actor's id and, for the chip, the name the row showed. */
  actor: { id: string; label: string } | null;
  from: string;
  to: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function readFilter(params: URLSearchParams): AuditFilter {
  const action = params.get('action') ?? '';
  const actorId = params.get('actor');
  const day = (name: string) => {
    const value = params.get(name) ?? '';
    return DAY.test(value) ? value : '';
  };
  return {
    action: (ACTIONS as readonly string[]).includes(action) ? action : '',
    actor: actorId ? { id: actorId, label: params.get('by') ?? 'one person' } : null,
    from: day('from'),
    to: day('to'),
  };
}

/** Changes some filters; the table goes back to its first page. */
export function setFilter(next: Partial<AuditFilter>): void {
  const patch: Record<string, string | null> = { page: null };
  if (next.action !== undefined) patch.action = next.action || null;
  if (next.from !== undefined) patch.from = next.from || null;
  if (next.to !== undefined) patch.to = next.to || null;
  if (next.actor !== undefined) {
    patch.actor = next.actor?.id ?? null;
    patch.by = next.actor?.label ?? null;
  }
  void setParams(patch);
}

/** The query's variables: dates are whole days in UTC, and `to` includes its day. */
export function filterVariables(filter: AuditFilter) {
  return {
    action: filter.action || null,
    actorId: filter.actor?.id ?? null,
    from: filter.from ? `${filter.from}T00:00:00.000Z` : null,
    to: filter.to
      ? new Date(Date.parse(`${filter.to}T00:00:00.000Z`) + 86_400_000).toISOString()
      : null,
  };
}

/** A detail's name as words: "fileIds" → "file ids". */
const words = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A detail's value as a person reads it: yes/no, none, dates and numbers in the locale's form. */
function spoken(value: unknown, key = ''): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number')
    return /bytes$/i.test(key) ? formatBytes(value) : value.toLocaleString();
  if (typeof value === 'string') return ISO_TIME.test(value) ? formatDateTime(value) : value;
  if (Array.isArray(value)) return value.length ? value.map((v) => spoken(v)).join(', ') : 'none';
  return JSON.stringify(value);
}

/**
 * An event's details (JSON from the server) as one line a person reads: changes as
 * "name: before → after", other facts as "name: value" (the CSV export keeps the JSON).
 */
export function describe(details: string | null): string {
  if (!details) return '';
  try {
    const parsed = JSON.parse(details) as {
      before?: Record<string, unknown>;
      after?: Record<string, unknown>;
      [key: string]: unknown;
    };
    const { before, after, ...rest } = parsed;
    const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
    const changes = keys.map((k) =>
      before && after
        ? `${words(k)}: ${spoken(before[k], k)} → ${spoken(after[k], k)}`
        : `${words(k)}: ${spoken((after ?? before)?.[k], k)}`,
    );
    const extra = Object.entries(rest).map(([k, v]) => `${words(k)}: ${spoken(v, k)}`);
    return [...changes, ...extra].join('; ');
  } catch {
    return details;
  }
}
