'use strict';
// One read-only SQLite connection on a worker thread (read-pool.ts). Plain CommonJS so that it
// loads the same way whether the server runs from TypeScript through tsx, under Vitest, or from
// a build. It answers compiled statements with their rows; a readonly connection refuses writes.
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require('better-sqlite3');

const db = new SQLite(workerData.file, { readonly: true, fileMustExist: true });
db.pragma('busy_timeout = 5000');
// As on the main connection (connection.ts): a larger page cache, memory-mapped reads, and a
// lower() that folds every script the way PostgreSQL does.
db.pragma('cache_size = -65536');
db.pragma('mmap_size = 4294967296');
db.function('lower', { deterministic: true }, (value) =>
  typeof value === 'string' ? value.toLowerCase() : value,
);

// Prepared statements by text: the same few dozen shapes come back all the time.
const statements = new Map();
const MAX_STATEMENTS = 500;

function prepare(sql) {
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value);
    statements.set(sql, statement);
  }
  return statement;
}

parentPort.on('message', (message) => {
  try {
    const statement = prepare(message.sql);
    if (!statement.reader) throw new Error('The read pool runs statements that return rows only.');
    parentPort.postMessage({ id: message.id, rows: statement.all(...message.parameters) });
  } catch (error) {
    parentPort.postMessage({
      id: message.id,
      error: { message: String(error && error.message), code: error && error.code },
    });
  }
});
