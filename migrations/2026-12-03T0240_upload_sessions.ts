import type { Kysely } from 'kysely';

// Resumable uploads (tus, server/src/modules/uploads). One row per unfinished or just finished
// upload: what the client declared at creation, how far the bytes got, and what it takes to go
// on from there on any instance: the storage driver's partial-object state and the SHA-256 state
// of the bytes so far. `lock_token` / `locked_until` keep two requests (on any instance) from
// appending to one upload at once; a lock left by a crash lapses. No foreign key to users: an
// expired row is swept together with its stored bytes, which a cascade would leave behind.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('upload_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull())
    .addColumn('filename', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('tags', 'text')
    .addColumn('status', 'text')
    .addColumn('length', 'bigint', (c) => c.notNull())
    .addColumn('upload_offset', 'bigint', (c) => c.notNull())
    .addColumn('temp_key', 'text', (c) => c.notNull())
    .addColumn('storage_state', 'text', (c) => c.notNull())
    .addColumn('hash_state', 'text')
    .addColumn('head', 'text', (c) => c.notNull())
    .addColumn('file_id', 'integer')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('lock_token', 'text')
    .addColumn('locked_until', 'bigint')
    .execute();
  await db.schema
    .createIndex('upload_sessions_expires_at')
    .on('upload_sessions')
    .column('expires_at')
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('upload_sessions').execute();
}
