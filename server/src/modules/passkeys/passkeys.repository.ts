import type { Executor, PasskeyRow, WebauthnChallengesTable } from '../../db/database.js';
import { deleteExpired, deleteRows } from '../../db/rows.js';

// All SQL of passkeys and of the challenges of their ceremonies.

export const listPasskeys = (db: Executor, userId: number): Promise<PasskeyRow[]> =>
  db
    .selectFrom('passkeys')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();

export const findPasskey = (db: Executor, id: string): Promise<PasskeyRow | undefined> =>
  db.selectFrom('passkeys').selectAll().where('id', '=', id).executeTakeFirst();

export async function insertPasskey(db: Executor, row: PasskeyRow): Promise<void> {
  await db.insertInto('passkeys').values(row).execute();
}

export async function renamePasskey(
  db: Executor,
  userId: number,
  id: string,
  name: string,
): Promise<PasskeyRow | undefined> {
  return db
    .updateTable('passkeys')
    .set({ name })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Records a sign-in: the new signature counter and the time. The counter must move forward (or
 * stay 0 for authenticators without one) in the same UPDATE, so a cloned credential replaying
 * an old counter loses the race.
 */
export async function usePasskey(
  db: Executor,
  id: string,
  counter: number,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('passkeys')
    .set({ counter, last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('counter', '<', counter), eb('counter', '=', 0)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export const deletePasskey = (db: Executor, userId: number, id: string) =>
  deleteRows(db, 'passkeys', { id, user_id: userId });

export async function insertChallenge(db: Executor, row: WebauthnChallengesTable): Promise<void> {
  await deleteExpired(db, 'webauthn_challenges', Date.now());
  await db.insertInto('webauthn_challenges').values(row).execute();
}

/** Uses a live challenge up: true when it existed for this kind and user (and is now gone). */
export async function consumeChallenge(
  db: Executor,
  challenge: string,
  kind: WebauthnChallengesTable['kind'],
  userId: number | null,
  now: number,
): Promise<boolean> {
  let query = db
    .deleteFrom('webauthn_challenges')
    .where('challenge', '=', challenge)
    .where('kind', '=', kind)
    .where('expires_at', '>', now);
  query =
    userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', userId);
  const result = await query.executeTakeFirst();
  return result.numDeletedRows > 0n;
}
