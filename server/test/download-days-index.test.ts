import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../src/db/migrate.js';
import { bareDatabase } from './harness.js';

// Every download, retag and trash upserts download_days rows, and the top lists sum them by
// (kind, id, day): one index serves both, its key carrying the count on PostgreSQL (migration
// 2026-12-09T1000_download_days_one_index), the table itself on SQLite (WITHOUT ROWID).

const bare = bareDatabase();

it('reads and writes download_days through one index that carries the count', async () => {
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
  } else {
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'index' and tbl_name = 'download_days'
      and sql is not null`.execute(db);
    expect(rows).toEqual([]);
    const { rows: table } = await sql<{ sql: string }>`
      select sql from sqlite_master where type = 'table' and name = 'download_days'`.execute(db);
    expect(table[0]!.sql).toMatch(/primary key \(kind, id, day\)[\s\S]*without rowid/i);
  }
});
