import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Config } from '../config.js';
import type { Database, Db } from './database.js';
import { readPoolDb } from './read-pool.js';
import { startWalCheckpointer, type WalCheckpointer } from './wal-checkpointer.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Connection {
  db: Db;
  /**
   * Where heavy reads go (searches, statistics): on SQLite a pool of read-only connections on
   * worker threads (read-pool.ts), so no read holds the event loop; on PostgreSQL `db` itself.
   */
  reads: Db;
  dialect: Dialect;
  /** PostgreSQL's pool (the one Kysely uses), for libraries that query pg themselves. */
  pgPool: pg.Pool | null;
  /** SQLite on a file: the thread that checkpoints its write-ahead log (wal-checkpointer.ts). */
  checkpointer: WalCheckpointer | null;
  close(): Promise<void>;
}

/**
 * pg, loaded only for a PostgreSQL database: merely loading it costs a tenth of a second of every
 * start (it probes for a Cloudflare runtime, which makes Node load its fetch implementation).
 * A synchronous require keeps openDatabase synchronous.
 */
function loadPg(): typeof pg {
  const driver = createRequire(import.meta.url)('pg') as typeof pg;
  // int8 (counts, sums, bigint columns) arrives as a string from pg; every such value here is a
  // count, a byte size or epoch milliseconds, all far below 2^53.
  driver.types.setTypeParser(driver.types.builtins.INT8, (v) => Number(v));
  driver.types.setTypeParser(driver.types.builtins.NUMERIC, (v) => Number(v));
  return driver;
}

export function openDatabase(
  config: Config['database'],
  options: {
    /** SQLite: the log checkpointer's thread failed (the writer checkpoints on its own again). */
    onCheckpointerStop?: (error: Error) => void;
  } = {},
): Connection {
  if (config.kind === 'postgres') {
    const pg = loadPg();
    const pool = new pg.Pool({ connectionString: config.url, max: 10 });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      reads: db,
      dialect: 'postgres',
      pgPool: pool,
      checkpointer: null,
      close: () => db.destroy(),
    };
  }
  const inMemory = config.file === ':memory:';
  if (!inMemory) fs.mkdirSync(path.dirname(config.file), { recursive: true });
  const sqlite = new SQLite(config.file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // WAL makes NORMAL durable against application crashes; only a power cut can lose the last
  // transactions, never corrupt the file.
  sqlite.pragma('synchronous = NORMAL');
  // SQLite's default page cache is 2 MiB; searches and counts over a million files touch far more
  // index pages than that. A larger cache plus memory-mapped reads (no read() syscall per page)
  // make them 2–4× faster at that size; both are upper bounds, not allocations.
  sqlite.pragma('cache_size = -131072'); // 128 MiB
  sqlite.pragma('mmap_size = 4294967296'); // 4 GiB
  // SQLite's own lower() folds ASCII only; searches must fold é, ß and Cyrillic as PostgreSQL does.
  sqlite.function('lower', { deterministic: true }, (value: unknown) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  );
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  // An in-memory database exists on its own connection only: no other thread can read it.
  const reads = inMemory ? db : readPoolDb(config.file);
  const checkpointer = inMemory
    ? null
    : startWalCheckpointer(config.file, sqlite, { onStop: options.onCheckpointerStop });
  return {
    db,
    reads,
    dialect: 'sqlite',
    pgPool: null,
    checkpointer,
    async close() {
      if (reads !== db) await reads.destroy();
      // Before the writer: the last connection to close checkpoints the log and removes it.
      await checkpointer?.close();
      await db.destroy();
    },
  };
}
