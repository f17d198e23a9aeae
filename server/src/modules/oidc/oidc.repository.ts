import type { Executor, OidcLoginsTable } from '../../db/database.js';

// All SQL of single sign-on: identities (issuer + subject → user) and started sign-ins.

export async function insertOidcLogin(db: Executor, row: OidcLoginsTable): Promise<void> {
  await db.insertInto('oidc_logins').values(row).execute();
}

/** Takes a started sign-in out (used once): a replayed callback finds nothing. */
export const takeOidcLogin = (
  db: Executor,
  stateHash: string,
  now: number,
): Promise<OidcLoginsTable | undefined> =>
  db
    .deleteFrom('oidc_logins')
    .where('state_hash', '=', stateHash)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();

export async function deleteExpiredOidcLogins(db: Executor, now: number): Promise<void> {
  await db.deleteFrom('oidc_logins').where('expires_at', '<=', now).execute();
}

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
