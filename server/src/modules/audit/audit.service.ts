import type { Dialect } from '../../db/connection.js';
import type { Db, Executor } from '../../db/database.js';
import type { Viewer } from '../auth/viewer.js';
import type { AuditAction } from './actions.js';
import {
  countAuditEvents,
  deleteAuditEventsBefore,
  insertAuditEvent,
  insertAuditEvents,
  listAuditEvents,
  type AuditFilter,
} from './audit.repository.js';

/** Who did something: the signed-in user (null when anonymous) and the client's address. */
export interface Actor {
  user: { id: number; email: string } | null;
  address: string | null;
  /** For an anonymous actor, what it claimed to be (the email of a failed sign-in). */
  claimed?: string;
}

/** The actor of a request (GraphQL context or HTTP route: both have a viewer and an address). */
export const actorOf = (request: { viewer: Viewer | null; clientAddress: string }): Actor => ({
  user: request.viewer?.user ?? null,
  address: request.clientAddress,
});

/** The actor of a request whose field requires a signed-in viewer (authScopes checked it). */
export function signedInActor(request: {
  viewer: Viewer | null;
  clientAddress: string;
}): Actor & { user: { id: number; email: string } } {
  if (!request.viewer) throw new Error('signedInActor without a viewer');
  return { user: request.viewer.user, address: request.clientAddress };
}

/** The server itself (periodic jobs such as the trash purge). */
export const SYSTEM_ACTOR: Actor = { user: null, address: null, claimed: 'system' };

export interface AuditEventInput {
  actor: Actor;
  action: AuditAction;
  target?: { type: string; id: number | string; label: string | null } | null;
  /** Before/after values and other facts; stored as JSON text. */
  details?: Record<string, unknown> | null;
  /** Epoch ms; now when omitted. */
  at?: number;
}

/**
 * Appends one event. Pass the transaction of the action it records: the event and the action
 * commit together or not at all (a refused or failed action leaves no event).
 */
export async function record(trx: Executor, event: AuditEventInput): Promise<void> {
  await insertAuditEvent(trx, row(event));
}

/**
 * Appends many events, in order, as `record` does one: a bulk action's events in a few
 * statements (on PostgreSQL each statement also updates the day counts once, not per event).
 */
export async function recordMany(
  trx: Executor,
  dialect: Dialect,
  events: AuditEventInput[],
): Promise<void> {
  await insertAuditEvents(trx, dialect, events.map(row));
}

function row(event: AuditEventInput) {
  const { actor, target } = event;
  return {
    at: event.at ?? Date.now(),
    actor_id: actor.user?.id ?? null,
    actor_label: actor.user?.email ?? actor.claimed ?? 'anonymous',
    action: event.action,
    target_type: target?.type ?? null,
    target_id: target ? String(target.id) : null,
    target_label: target?.label ?? null,
    address: actor.address,
    details: event.details ? JSON.stringify(event.details) : null,
  };
}

/**
 * Appends the event of an action that changed one value of its target, its `details` being
 * `{ before: { <key>: before }, after: { <key>: after } }`.
 */
async function recordChange(
  trx: Executor,
  event: Omit<AuditEventInput, 'details'>,
  change: { key: string; before: unknown; after: unknown },
): Promise<void> {
  const { key, before, after } = change;
  await record(trx, { ...event, details: { before: { [key]: before }, after: { [key]: after } } });
}

/** `audit.record(trx, {...})`: the one way to write the log (`recordMany` for bulk actions). */
export const audit = { record, recordMany, recordChange };

type AccountHolder = { id: number; email: string };

/** The target of an event about a user's account. */
export const userTarget = (user: AccountHolder) => ({
  type: 'user',
  id: user.id,
  label: user.email,
});

/** An event a user caused on their own account (sign-in, factors, sessions). */
export const ownAccount = (
  user: AccountHolder,
  address: string | null,
  action: AuditAction,
): AuditEventInput => ({ actor: { user, address }, action, target: userTarget(user) });

const DAY_MS = 86_400_000;

export function createAuditService(db: Db, options: { auditDays: number }) {
  return {
    list: (filter: AuditFilter, limit: number, offset: number) =>
      listAuditEvents(db, filter, limit, offset),
    count: (filter: AuditFilter) => countAuditEvents(db, filter),

    /**
     * Retention: deletes events older than AUDIT_DAYS, in batches. Safe to run on several
     * instances at once (each batch deletes what is still there). Resolves to how many went.
     */
    async prune(now = Date.now()): Promise<number> {
      const before = now - options.auditDays * DAY_MS;
      let total = 0;
      for (;;) {
        const n = await deleteAuditEventsBefore(db, before, 5_000);
        total += n;
        if (n < 5_000) return total;
      }
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
