import { PostgresAdapter, type Kysely } from 'kysely';

// The audit log (modules/audit): one append-only row per admin action or security event, written
// in the transaction of the action itself. No foreign keys: an event outlives what it names, and
// the labels keep what the actor and the target were called at that moment.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'integer', (c) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_id', 'integer')
    .addColumn('actor_label', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('target_label', 'text')
    .addColumn('address', 'text')
    .addColumn('details', 'text')
    .execute();
  // Newest first, unfiltered or by action or by actor (the auditEvents filters), and retention.
  await db.schema.createIndex('audit_events_at').on('audit_events').columns(['at', 'id']).execute();
  await db.schema
    .createIndex('audit_events_action_at')
    .on('audit_events')
    .columns(['action', 'at', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_events_actor_at')
    .on('audit_events')
    .columns(['actor_id', 'at', 'id'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('audit_events').execute();
}
