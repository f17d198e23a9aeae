import type { Kysely } from 'kysely';

// Sessions a person can see and end (issue 17): each session keeps the user agent and address it
// was started from and when it was last used (written at most once a minute, like
// users.last_active_at). Password-reset links made by an admin: only the SHA-256 of the link's
// token is kept, so a leaked database yields no usable link; a row is deleted when used.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('user_agent', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('address', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('last_active_at', 'bigint').execute();

  await db.schema
    .createTable('password_resets')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_by', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('password_resets_user_id')
    .on('password_resets')
    .column('user_id')
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('password_resets').execute();
  for (const column of ['last_active_at', 'address', 'user_agent']) {
    await db.schema.alterTable('sessions').dropColumn(column).execute();
  }
}
