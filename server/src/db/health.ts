import { sql } from 'kysely';
import type { Db } from './database.js';

/** Resolves once the database answers a trivial statement (`/healthz`); rejects when it cannot. */
export async function pingDatabase(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
