import type { UpdateResult } from 'kysely';
import type { Executor } from '../../db/database.js';
import { countRows } from '../../db/listing.js';
import { deleteRows } from '../../db/rows.js';

// All SQL of two-factor sign-in: the TOTP columns of users and the recovery_codes table.

/**
 * Makes `codeHashes` the user's only recovery codes, provided `guard` (an UPDATE of the user's
 * row checking two-factor's state) changed the row: false, with nothing stored, when it did not.
 */
async function storeRecoveryCodes(
  db: Executor,
  guard: Promise<UpdateResult>,
  userId: number,
  codeHashes: string[],
): Promise<boolean> {
  if ((await guard).numUpdatedRows === 0n) return false;
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('recovery_codes')
    .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash })))
    .execute();
  return true;
}

export async function setPendingTotp(db: Executor, userId: number, secret: string): Promise<void> {
  await db.updateTable('users').set({ totp_pending: secret }).where('id', '=', userId).execute();
}

/**
 * Turns the pending secret into the confirmed one, provided it is still `secret` and two-factor
 * is still off (a second confirmation racing the first changes nothing), and stores the recovery
 * codes. False when the row no longer matched.
 */
export async function confirmPendingTotp(
  db: Executor,
  userId: number,
  secret: string,
  step: number,
  codeHashes: string[],
): Promise<boolean> {
  const confirm = db
    .updateTable('users')
    .set({ totp_secret: secret, totp_pending: null, totp_last_step: step })
    .where('id', '=', userId)
    .where('totp_pending', '=', secret)
    .where('totp_secret', 'is', null)
    .executeTakeFirst();
  return storeRecoveryCodes(db, confirm, userId, codeHashes);
}

/**
 * Replaces every recovery code of the user, provided two-factor is still on with `secret`: false
 * (nothing changed) when it was turned off or set up anew meanwhile.
 */
export async function replaceRecoveryCodes(
  db: Executor,
  userId: number,
  secret: string,
  codeHashes: string[],
): Promise<boolean> {
  // An UPDATE that changes nothing, not a SELECT: on PostgreSQL it holds the user's row until
  // commit, so a `disableTotp` racing it waits and then deletes these codes too.
  const still = db
    .updateTable('users')
    .set({ totp_secret: secret })
    .where('id', '=', userId)
    .where('totp_secret', '=', secret)
    .executeTakeFirst();
  return storeRecoveryCodes(db, still, userId, codeHashes);
}

export async function clearTotp(db: Executor, userId: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ totp_secret: null, totp_pending: null, totp_last_step: null })
    .where('id', '=', userId)
    .execute();
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
}

/**
 * Records `step` as the last accepted time step unless one at or past it was accepted already:
 * true when this call won. The comparison sits in the UPDATE, so two requests with the same code,
 * on any instances, cannot both pass.
 */
export async function claimTotpStep(db: Executor, userId: number, step: number): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where('totp_secret', 'is not', null)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Uses a recovery code up: true when it existed (and is now gone). */
export const consumeRecoveryCode = (db: Executor, userId: number, codeHash: string) =>
  deleteRows(db, 'recovery_codes', { user_id: userId, code_hash: codeHash });

export const countRecoveryCodes = (db: Executor, userId: number): Promise<number> =>
  countRows(db.selectFrom('recovery_codes').where('user_id', '=', userId));
