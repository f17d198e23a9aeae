import { setParams } from '$lib/components/url';

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

/** An event's details (JSON from the server) as one line: changes as "key: before → after". */
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
        ? `${k}: ${JSON.stringify(before[k])} → ${JSON.stringify(after[k])}`
        : `${k}: ${JSON.stringify((after ?? before)?.[k])}`,
    );
    const extra = Object.entries(rest).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
    return [...changes, ...extra].join('; ');
  } catch {
    return details;
  }
}
