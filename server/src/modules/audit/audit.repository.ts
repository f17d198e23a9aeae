import type { Insertable } from 'kysely';
import type { AuditEventsTable, Executor } from '../../db/database.js';
import { newestFirstLog, type TimeRange } from '../../db/newest-first.js';

// All SQL of the audit log. Events are only ever inserted, read, and deleted by retention.

export async function insertAuditEvent(
  db: Executor,
  event: Omit<Insertable<AuditEventsTable>, 'id'>,
): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

/** Many events in multi-row inserts (a bulk action's: one statement per 500, not one each). */
export async function insertAuditEvents(
  db: Executor,
  events: Omit<Insertable<AuditEventsTable>, 'id'>[],
): Promise<void> {
  // 9 columns × 500 rows stays under SQLite's 32,766 parameters a statement.
  for (let i = 0; i < events.length; i += 500) {
    await db
      .insertInto('audit_events')
      .values(events.slice(i, i + 500))
      .execute();
  }
}

export interface AuditFilter extends TimeRange {
  /** An exact action (`user.ban`), or a family ending in a dot (`user.`). */
  action?: string | null;
  actorId?: number | null;
}

/** Newest first; ties (same millisecond) by id, newest first. */
const auditLog = newestFirstLog('audit_events', (q, f: AuditFilter) => {
  if (f.action) {
    // A family is the computed `family` column (migration 2026-12-05T0100d_audit_family), whose
    // indexes end in (at, id): a range on `action` found the family's events but out of time
    // order, so every page sorted all of them.
    q = f.action.endsWith('.')
      ? q.where('family', '=', f.action.slice(0, -1))
      : q.where('action', '=', f.action);
  }
  return f.actorId != null ? q.where('actor_id', '=', f.actorId) : q;
});

export const listAuditEvents = auditLog.list;

const DAY_MS = 86_400_000;

/**
 * Exact, without counting a large log row by row: the whole UTC days of the range come from
 * `audit_days` (trigger-kept: at most one row per action and day), only the partial days at its
 * ends are counted in `audit_events`. One statement, so one snapshot.
 */
export async function countAuditEvents(db: Executor, f: AuditFilter): Promise<number> {
  // [firstDay, endDay): the whole days inside [from, to); null ends are open.
  const firstDay = f.from == null ? null : Math.ceil(f.from / DAY_MS) * DAY_MS;
  const endDay = f.to == null ? null : Math.floor(f.to / DAY_MS) * DAY_MS;
  if (firstDay != null && endDay != null && firstDay >= endDay) return auditLog.count(db, f);
  const raw = (from: number, to: number) =>
    auditLog.filtered(db, { ...f, from, to }).select((eb) => eb.fn.countAll<number>().as('n'));
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('audit_days')
        .select((d) => d.fn.coalesce(d.fn.sum<number>('events'), d.lit(0)).as('n'))
        // actor_id 0 holds everyone's events; ids start at 1.
        .where('actor_id', '=', f.actorId ?? 0)
        .$if(!!f.action, (q) =>
          f.action!.endsWith('.')
            ? // The family's actions sort between "user." and "user/": every action has a dot,
              // so this is the `family` column's answer.
              q.where('action', '>=', f.action!).where('action', '<', `${f.action!.slice(0, -1)}/`)
            : q.where('action', '=', f.action!),
        )
        .$if(firstDay != null, (q) => q.where('day', '>=', firstDay!))
        .$if(endDay != null, (q) => q.where('day', '<', endDay!))
        .as('days'),
      (f.from != null && f.from < firstDay! ? raw(f.from, firstDay!) : eb.lit(0)).as('head'),
      (f.to != null && endDay! < f.to ? raw(endDay!, f.to) : eb.lit(0)).as('tail'),
    ])
    .executeTakeFirstOrThrow();
  return Number(row.days ?? 0) + Number(row.head ?? 0) + Number(row.tail ?? 0);
}

/**
 * Deletes up to `batch` events older than `before`, oldest first; resolves to how many went.
 * Small batches keep each statement short, so retention never holds up the actions it logs.
 */
export async function deleteAuditEventsBefore(
  db: Executor,
  before: number,
  batch: number,
): Promise<number> {
  const result = await db
    .deleteFrom('audit_events')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('audit_events')
        .select('id')
        .where('at', '<', before)
        .orderBy('at')
        .limit(batch),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The query of a page, to explain (audit.test.ts checks each filter shape's plan). */
export const auditEventsPage = auditLog.page;
