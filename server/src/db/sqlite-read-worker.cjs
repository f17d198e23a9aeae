'use strict';
// Read-only SQLite connections on a worker thread (read-pool.ts). Plain CommonJS so that it
// loads the same way whether the server runs from TypeScript through tsx, under Vitest, or from
// a build. It answers compiled statements with their rows; a readonly connection refuses writes.
//
// Statements run on the worker's shared connection, or on a snapshot's own connection: a
// snapshot (`begin` … `end`) is a read transaction that sees the database as it was at its first
// statement, so several statements of one request agree with each other whatever commits
// meanwhile. Each snapshot needs a connection of its own (a transaction belongs to a connection),
// taken from a few kept idle.
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require('better-sqlite3');

/** Idle snapshot connections kept open for the next snapshot. */
const KEEP_IDLE = 4;
/** Prepared statements by text per connection: the same few dozen shapes come back all the time. */
const MAX_STATEMENTS = 500;

function open() {
  const db = new SQLite(workerData.file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  // As on the main connection (connection.ts): a larger page cache, memory-mapped reads, and a
  // lower() that folds every script the way PostgreSQL does.
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 4294967296');
  db.function('lower', { deterministic: true }, (value) =>
    typeof value === 'string' ? value.toLowerCase() : value,
  );
  return { db, statements: new Map() };
}

function prepare(conn, sql) {
  let statement = conn.statements.get(sql);
  if (!statement) {
    statement = conn.db.prepare(sql);
    if (conn.statements.size >= MAX_STATEMENTS) {
      conn.statements.delete(conn.statements.keys().next().value);
    }
    conn.statements.set(sql, statement);
  }
  return statement;
}

const shared = open();
const idle = [];
const snapshots = new Map();

function handle(message) {
  if (message.begin !== undefined) {
    const conn = idle.pop() ?? open();
    conn.db.exec('BEGIN');
    // The snapshot starts with the transaction's first read, not with BEGIN: read now.
    prepare(conn, 'select count(*) as n from sqlite_schema').all();
    snapshots.set(message.begin, conn);
    return [];
  }
  if (message.end !== undefined) {
    const conn = snapshots.get(message.end);
    if (!conn) return [];
    snapshots.delete(message.end);
    if (conn.db.inTransaction) conn.db.exec('COMMIT');
    if (idle.length < KEEP_IDLE) idle.push(conn);
    else conn.db.close();
    return [];
  }
  const conn = message.snapshot === undefined ? shared : snapshots.get(message.snapshot);
  if (!conn) throw new Error('The snapshot has ended.');
  const statement = prepare(conn, message.sql);
  if (!statement.reader) throw new Error('The read pool runs statements that return rows only.');
  return statement.all(...message.parameters);
}

parentPort.on('message', (message) => {
  try {
    parentPort.postMessage({ id: message.id, rows: handle(message) });
  } catch (error) {
    parentPort.postMessage({
      id: message.id,
      error: { message: String(error && error.message), code: error && error.code },
    });
  }
});
