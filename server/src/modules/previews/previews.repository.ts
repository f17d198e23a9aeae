import type { Executor } from '../../db/database.js';
import type { DerivedObjectsTable } from '../../db/database.js';

// All SQL of derived objects (migration 2026-12-04T0200_previews): who is making one, which are
// stored, which cannot be made.

export interface DerivedId {
  sha256: string;
  size: number;
  variant: string;
}

export type DerivedRow = DerivedObjectsTable;

export async function findDerived(db: Executor, id: DerivedId): Promise<DerivedRow | null> {
  const row = await db
    .selectFrom('derived_objects')
    .selectAll()
    .where('sha256', '=', id.sha256)
    .where('size', '=', id.size)
    .where('variant', '=', id.variant)
    .executeTakeFirst();
  return row ?? null;
}

/** The variants known to be impossible for these blobs (`none` rows), as `sha256-size-variant`. */
export async function findImpossible(
  db: Executor,
  sha256s: readonly string[],
  variant: string,
): Promise<Set<string>> {
  if (sha256s.length === 0) return new Set();
  const rows = await db
    .selectFrom('derived_objects')
    .select(['sha256', 'size'])
    .where('sha256', 'in', [...sha256s])
    .where('variant', '=', variant)
    .where('state', '=', 'none')
    .execute();
  return new Set(rows.map((r) => `${r.sha256}-${Number(r.size)}`));
}

/**
 * Claims the making of a derived object for `claim` until `until`: inserts a `pending` row, or
 * takes over a `pending` one whose claim lapsed (its maker died). Atomic across instances: at
 * most one caller gets true.
 */
export async function claimDerived(
  db: Executor,
  id: DerivedId,
  claim: string,
  now: number,
  until: number,
): Promise<boolean> {
  const inserted = await db
    .insertInto('derived_objects')
    .values({ ...id, state: 'pending', claim, claimed_until: until, updated_at: now })
    .onConflict((oc) => oc.columns(['sha256', 'size', 'variant']).doNothing())
    .executeTakeFirst();
  if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) return true;
  const taken = await db
    .updateTable('derived_objects')
    .set({ claim, claimed_until: until, updated_at: now })
    .where('sha256', '=', id.sha256)
    .where('size', '=', id.size)
    .where('variant', '=', id.variant)
    .where('state', '=', 'pending')
    .where('claimed_until', '<', now)
    .executeTakeFirst();
  return taken.numUpdatedRows > 0n;
}

/** Settles a claim: `ready` with the stored object's size, or `none` with the reason. */
export async function settleDerived(
  db: Executor,
  id: DerivedId,
  claim: string,
  outcome: { state: 'ready'; bytes: number } | { state: 'none'; reason: string },
  now: number,
): Promise<void> {
  await db
    .updateTable('derived_objects')
    .set({
      state: outcome.state,
      claim: null,
      claimed_until: null,
      bytes: outcome.state === 'ready' ? outcome.bytes : null,
      reason: outcome.state === 'none' ? outcome.reason.slice(0, 500) : null,
      updated_at: now,
    })
    .where('sha256', '=', id.sha256)
    .where('size', '=', id.size)
    .where('variant', '=', id.variant)
    .where('claim', '=', claim)
    .execute();
}

/**
 * Removes a row so the object is made again: a claim given up after a passing failure, or a
 * `ready` row whose object is gone. `claim` limits it to the caller's own pending row.
 */
export async function forgetDerived(
  db: Executor,
  id: DerivedId,
  only: { claim: string } | { state: 'ready' },
): Promise<void> {
  let query = db
    .deleteFrom('derived_objects')
    .where('sha256', '=', id.sha256)
    .where('size', '=', id.size)
    .where('variant', '=', id.variant);
  query =
    'claim' in only ? query.where('claim', '=', only.claim) : query.where('state', '=', only.state);
  await query.execute();
}

/** Rows of a blob that is gone (its derived objects were removed with it). */
export async function deleteDerivedRows(db: Executor, sha256: string): Promise<void> {
  await db.deleteFrom('derived_objects').where('sha256', '=', sha256).execute();
}
