import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.js';
import { bareDatabase } from './harness.js';

// Every download, retag and trash upserts download_days and download_tag_hours rows. download_days
// is summed by (kind, id, day) for the top lists: one index serves both, its key carrying the
// count on PostgreSQL (migration 2026-12-09T1000_download_days_one_index), the table itself on
// SQLite (WITHOUT ROWID). download_tag_hours is read a few hours at a time: on PostgreSQL its key
// leaves the count out and its pages keep room, so those updates are HOT (migration
// 2026-12-09T1100_download_tag_hours_hot).

const bare = bareDatabase();

it('keeps the rollup tables at one index each, HOT-updatable where it is read a few rows at a time', async () => {
  const { db, dialect } = bare.connection;
  await migrateToLatest(db);
  if (dialect === 'postgres') {
    const { rows } = await sql<{ name: string; definition: string }>`
      select indexname as name, indexdef as definition from pg_indexes
      where tablename = 'download_days'`.execute(db);
    expect(rows).toEqual([
      {
        name: 'download_days_pkey',
        definition: expect.stringMatching(/\(kind, id, day\) INCLUDE \(downloads\)$/),
      },
    ]);
    const hours = await sql<{ name: string; definition: string }>`
      select indexname as name, indexdef as definition from pg_indexes
      where tablename = 'download_tag_hours'`.execute(db);
    expect(hours.rows).toEqual([
      {
        name: 'download_tag_hours_pkey',
        definition: expect.stringMatching(/\(hour, tag_id\)$/),
      },
    ]);
    const options = await sql<{ options: string[] | null }>`
      select reloptions as options from pg_class where relname = 'download_tag_hours'`.execute(db);
    expect(options.rows[0]!.options).toEqual(['fillfactor=80']);
  } else {
    for (const [table, key] of [
      ['download_days', /primary key \(kind, id, day\)[\s\S]*without rowid/i],
      ['download_tag_hours', /primary key \(hour, tag_id\)[\s\S]*without rowid/i],
    ] as const) {
      const { rows } = await sql<{ name: string }>`
        select name from sqlite_master where type = 'index' and tbl_name = ${table}
        and sql is not null`.execute(db);
      expect(rows).toEqual([]);
      const { rows: defined } = await sql<{ sql: string }>`
        select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
      expect(defined[0]!.sql).toMatch(key);
    }
  }
});
