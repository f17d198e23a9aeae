import type { Insertable } from 'kysely';
import type { AuditEventRow, AuditEventsTable, Executor } from '../../db/database.js';

// All SQL of the audit log. Events are only ever inserted, read, and deleted by retention.

export async function insertAuditEvent(
  db: Executor,
  event: Omit<Insertable<AuditEventsTable>, 'id'>,
): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

export interface AuditFilter {
  /** An exact action (`user.ban`), or a family ending in a dot (`user.`). */
  action?: string | null;
  actorId?: number | null;
  /** Inclusive, epoch ms. */
  from?: number | null;
  /** Exclusive, epoch ms. */
  to?: number | null;
}

function filtered(db: Executor, f: AuditFilter) {
  let q = db.selectFrom('audit_events');
  if (f.action) {
    if (f.action.endsWith('.')) {
      // A range on the indexed column rather than LIKE, whose wildcards and case rules differ
      // between SQLite and PostgreSQL: every action of the family sorts between "user." and "user/".
      q = q.where('action', '>=', f.action).where('action', '<', `${f.action.slice(0, -1)}/`);
    } else q = q.where('action', '=', f.action);
  }
  if (f.actorId != null) q = q.where('actor_id', '=', f.actorId);
  if (f.from != null) q = q.where('at', '>=', f.from);
  if (f.to != null) q = q.where('at', '<', f.to);
  return q;
}

/** Newest first; ties (same millisecond) by id, newest first. */
export const listAuditEvents = (
  db: Executor,
  filter: AuditFilter,
  limit: number,
  offset: number,
): Promise<AuditEventRow[]> =>
  filtered(db, filter)
    .selectAll()
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();

export async function countAuditEvents(db: Executor, filter: AuditFilter): Promise<number> {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
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
