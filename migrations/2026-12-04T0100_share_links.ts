import { PostgresAdapter, type Kysely } from 'kysely';

// Share links (server/src/modules/shares): a link to one or more files for people without an
// account. `token` is kept as is, beside its hash, because its creator and admins must be able to
// copy the URL again (the contract says so); lookups go through `token_hash` so that finding a
// link by the secret compares fixed-length hashes, never the secret's own prefix. `proof_key` is a
// per-link random key that signs the short-lived proof of a given password (cookie or `key=`):
// kept in the database so every instance checks proofs alike, and a proof is worthless for any
// other link. `download_count` is bumped only by a conditional UPDATE (… where download_count + n
// <= max_downloads), which keeps `max_downloads` exact under concurrency on both databases.
// `downloads.share_link_id` marks a link download (its `user_id` is null).

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

export async function up(db: Db): Promise<void> {
  const pg = isPostgres(db);
  await db.schema
    .createTable('share_links')
    .addColumn('id', 'integer', (c) =>
      pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement(),
    )
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('proof_key', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('password_hash', 'text')
    .addColumn('max_downloads', 'integer')
    .addColumn('download_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('note', 'text')
    .execute();
  await db.schema
    .createIndex('share_links_created_by')
    .on('share_links')
    .columns(['created_by', 'created_at'])
    .execute();
  await db.schema
    .createIndex('share_links_created_at')
    .on('share_links')
    .columns(['created_at', 'id'])
    .execute();

  await db.schema
    .createTable('share_link_files')
    .addColumn('link_id', 'integer', (c) =>
      c.notNull().references('share_links.id').onDelete('cascade'),
    )
    .addColumn('file_id', 'integer', (c) => c.notNull().references('files.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('share_link_files_pk', ['link_id', 'file_id'])
    .execute();
  await db.schema
    .createIndex('share_link_files_file_id')
    .on('share_link_files')
    .columns(['file_id', 'link_id'])
    .execute();

  await db.schema
    .alterTable('downloads')
    .addColumn('share_link_id', 'integer', (c) =>
      c.references('share_links.id').onDelete('set null'),
    )
    .execute();
  // viaLinks over a time range and a link's own history read this index only.
  await db.schema
    .createIndex('downloads_share_link_at')
    .on('downloads')
    .columns(['share_link_id', 'at'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('downloads_share_link_at').execute();
  await db.schema.alterTable('downloads').dropColumn('share_link_id').execute();
  await db.schema.dropTable('share_link_files').execute();
  await db.schema.dropTable('share_links').execute();
}
