'use strict';
// Copies the SQLite write-ahead log back into the database file on a thread of its own
// (wal-checkpointer.ts). Plain CommonJS for the same reason as sqlite-read-worker.cjs: it loads
// the same way from TypeScript through tsx, under Vitest, and from a build.
//
// Each tick reads how many frames the log holds that no checkpoint has copied yet, from the
// wal-index header in the `-shm` file (https://www.sqlite.org/walformat.html, 2.2: mxFrame at
// byte 16, the checkpoint's nBackfill at byte 96, native byte order), and checkpoints once they
// reach `frames`, the threshold at which SQLite would have checkpointed on the writer's commit.
// An idle database costs one 100-byte read a tick. The header is read without SQLite's locks: a
// torn read only moves one checkpoint by a tick.
//
// It checkpoints PASSIVE only: it never waits for or blocks the writer or a reader, and copies
// what no reader still needs.
const fs = require('node:fs');
const os = require('node:os');
const { parentPort, workerData } = require('node:worker_threads');
const SQLite = require('better-sqlite3');

const { file, intervalMs, frames } = workerData;
const db = new SQLite(file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
const header = Buffer.alloc(100);
const little = os.endianness() === 'LE';

// The index file lives as long as a connection to the database is open, this worker's own
// included, so it is opened once and read at every tick; opened again only after a failed read.
let shm = null;

/** Frames in the log not yet copied into the database, or 0 when it cannot tell. */
function pending() {
  try {
    shm ??= fs.openSync(`${file}-shm`, 'r');
    if (fs.readSync(shm, header, 0, header.length, 0) < header.length) return 0;
  } catch {
    closeShm();
    return 0; // no log yet
  }
  const mxFrame = little ? header.readUInt32LE(16) : header.readUInt32BE(16);
  const nBackfill = little ? header.readUInt32LE(96) : header.readUInt32BE(96);
  return mxFrame > nBackfill ? mxFrame - nBackfill : 0;
}

function closeShm() {
  if (shm === null) return;
  try {
    fs.closeSync(shm);
  } catch {
    // already gone
  }
  shm = null;
}

const timer = setInterval(() => {
  if (pending() < frames) return;
  try {
    checkpoint.get();
    parentPort.postMessage('checkpointed');
  } catch {
    // SQLITE_BUSY and the like: the next tick tries again.
  }
}, intervalMs);

parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  closeShm();
  db.close();
  parentPort.close();
});
