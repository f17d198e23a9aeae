import type { Kysely } from 'kysely';

// A link's owner could see its downloads but not whether anyone opened it: a recipient who only
// looked at the preview left no trace. `view_count` counts openings of the share page (one per
// client address and link every 30 minutes, so reloads do not inflate it); `last_viewed_at` the
// latest.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .alterTable('share_links')
    .addColumn('view_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('share_links').addColumn('last_viewed_at', 'bigint').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('share_links').dropColumn('last_viewed_at').execute();
  await db.schema.alterTable('share_links').dropColumn('view_count').execute();
}
