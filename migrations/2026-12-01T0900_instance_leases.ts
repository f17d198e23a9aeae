import type { Kysely } from 'kysely';

// Crash-safe uploads (modules/maintenance/lease.ts, stale.ts). Each running server process holds
// a lease row, renewed while it runs and removed when it closes. Its temp uploads carry its id in
// their storage key, and before it commits a blob to storage it records an intent row, removed
// once the database transaction has settled. Whatever names an instance without a live lease was
// left by a crash: its temp objects are removed, and an intent's blob is deleted unless a blobs
// row references it. No foreign key from intents to instances: a lease row goes when it lapses,
// and its intents are resolved by whoever finds them, in any order.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('instances')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('blob_intents')
    .addColumn('instance_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('blob_intents_pk', ['instance_id', 'sha256'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('blob_intents').execute();
  await db.schema.dropTable('instances').execute();
}
