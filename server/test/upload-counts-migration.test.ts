import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { bareDatabase, insertBareUser, type UntypedDb } from './harness.js';

// Migration 2026-12-03T0220_upload_counts recounts what older versions stored: upload_count
// counted uploads made, deleted files included, and HIDDEN files were not told apart.

const bare = bareDatabase();

it('recounts upload_count from the files that exist and uploads_hidden from the HIDDEN ones', async () => {
  const { db } = bare.connection;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const before = await migrator.migrateTo('2026-12-02T1000_rate_limit_windows');
  expect(before.error).toBeUndefined();

  // Rows of the schema as it stood then (no name_sort yet), which today's row types describe no more.
  const old = db as unknown as UntypedDb;
  const now = Date.now();
  const id = await insertBareUser(old, now);
  // Ten uploads made, one of them since deleted: the old counter says 10.
  await sql`update users set upload_count = 10 where id = ${id}`.execute(db);
  await db
    .insertInto('blobs')
    .values({ sha256: 'a'.repeat(64), size: 1, ref_count: 9, created_at: now })
    .execute();
  for (let i = 0; i < 9; i++) {
    await old
      .insertInto('files')
      .values({
        name: `f${i}`,
        original_name: `f${i}`,
        size: 1,
        mime_type: 'text/plain',
        sha256: 'a'.repeat(64),
        status: i < 2 ? 'HIDDEN' : 'ACTIVE',
        uploaded_by: id,
        created_at: now,
        updated_at: now,
      })
      .execute();
  }

  await migrateToLatest(db);
  const counts = () =>
    db
      .selectFrom('users')
      .select(['upload_count', 'uploads_hidden'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  expect(await counts()).toEqual({ upload_count: 9, uploads_hidden: 2 });

  // From here the triggers keep both: a HIDDEN file deleted, an ACTIVE one hidden.
  const hidden = await db
    .selectFrom('files')
    .select('id')
    .where('status', '=', 'HIDDEN')
    .executeTakeFirstOrThrow();
  await db.deleteFrom('files').where('id', '=', hidden.id).execute();
  const active = await db
    .selectFrom('files')
    .select('id')
    .where('status', '=', 'ACTIVE')
    .executeTakeFirstOrThrow();
  await db.updateTable('files').set({ status: 'HIDDEN' }).where('id', '=', active.id).execute();
  expect(await counts()).toEqual({ upload_count: 8, uploads_hidden: 2 });
});
