import type { Executor, OidcLoginsTable } from '../../db/database.js';
import { deleteExpired, liveRow } from '../../db/rows.js';

// All SQL of single sign-on: identities (issuer + subject → user) and started sign-ins.

export async function insertOidcLogin(db: Executor, row: OidcLoginsTable): Promise<void> {
  await db.insertInto('oidc_logins').values(row).execute();
}

/** Takes a started sign-in out (used once): a replayed callback finds nothing. */
export const takeOidcLogin = (db: Executor, stateHash: string, now: number) =>
  liveRow(db, 'oidc_logins', { state_hash: stateHash }, now).take();

export const deleteExpiredOidcLogins = (db: Executor, now: number) =>
  deleteExpired(db, 'oidc_logins', now);

export const findOidcIdentityUser = async (
  db: Executor,
  issuer: string,
  subject: string,
): Promise<number | undefined> =>
  (
    await db
      .selectFrom('oidc_identities')
      .select('user_id')
      .where('issuer', '=', issuer)
      .where('subject', '=', subject)
      .executeTakeFirst()
  )?.user_id;

export async function insertOidcIdentity(
  db: Executor,
  row: { issuer: string; subject: string; user_id: number; created_at: number },
): Promise<void> {
  await db.insertInto('oidc_identities').values(row).execute();
}
