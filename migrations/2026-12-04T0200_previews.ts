import type { Kysely } from 'kysely';

// Thumbnails (server/src/modules/previews). One row per blob (SHA-256 and size) and variant: the
// derived object is being made (`pending`, claimed by one instance until `claimed_until`), is
// stored (`ready`), or cannot be made (`none`, remembered so that it is not tried again on every
// request). Keyed by the blob rather than the file, so every file sharing the bytes shares the
// row; no foreign key to blobs: a row outliving its blob is harmless (a `ready` row whose object
// is gone is made again) and the derived objects are removed with the blob.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('derived_objects')
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('variant', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('claim', 'text')
    .addColumn('claimed_until', 'bigint')
    .addColumn('bytes', 'bigint')
    .addColumn('reason', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('derived_objects_pk', ['sha256', 'size', 'variant'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('derived_objects').execute();
}
