import { PostgresAdapter, type Kysely } from 'kysely';

// Sign-in and sign-up counters shared by every instance on one PostgreSQL database now live in
// rate-limiter-flexible's PostgreSQL store. Its table has the shape the store writes (it inserts
// positional VALUES (key, points, expire)) and is created here rather than by the store, so that
// starting a server never needs CREATE rights. SQLite runs as one process and counts in memory,
// so it gets no table. The hand-made `rate_limits` table had no other user: its short-lived
// windows are simply dropped (at worst a window restarts once).

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  await db.schema.dropTable('rate_limits').execute();
  if (!isPostgres(db)) return;
  await db.schema
    .createTable('rate_limit_windows')
    // `<prefix>:<sha256 of the limited value>`: never the email or address itself.
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    // Epoch milliseconds at which the window ends.
    .addColumn('expire', 'bigint')
    .execute();
  // The store deletes windows that ended over an hour ago every few minutes.
  await db.schema
    .createIndex('rate_limit_windows_expire')
    .on('rate_limit_windows')
    .column('expire')
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('rate_limit_windows').ifExists().execute();
  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('rate_limits_expires_at')
    .on('rate_limits')
    .column('expires_at')
    .execute();
}
