import type { Kysely } from 'kysely';

// A user's unfinished resumable uploads, read at every creation: they count toward the user's
// quota (the bytes they may still store) and their number is capped (modules/uploads).

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

export async function up(db: Db): Promise<void> {
  await db.schema
    .createIndex('upload_sessions_user')
    .on('upload_sessions')
    .columns(['user_id', 'expires_at'])
    .execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('upload_sessions_user').execute();
}
