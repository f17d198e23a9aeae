import type { Kysely } from 'kysely';

// Two-factor sign-in with TOTP (RFC 6238, issue 17). `totp_secret` is the confirmed secret (base32)
// and `totp_pending` one being set up but not yet confirmed by a code; `totp_last_step` is the
// time step of the last code accepted, so no code is accepted twice. Recovery codes are kept as
// SHA-256 hashes and deleted when used.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
  await db.schema.alterTable('users').addColumn('totp_pending', 'text').execute();
  await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('recovery_codes').execute();
  for (const column of ['totp_last_step', 'totp_pending', 'totp_secret']) {
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
}
