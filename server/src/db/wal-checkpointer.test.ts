import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/uploads.js';
import { openDatabase, type Connection } from './connection.js';
import { CHECKPOINT_FRAMES, startWalCheckpointer } from './wal-checkpointer.js';

// SQLite's write-ahead log is copied back into the database file by a worker thread
// (wal-checkpointer.ts), not by the commit that fills it on the main thread.
describe('SQLite WAL checkpoints', () => {
  let dir: string;
  let connection: Connection;
  let file: string;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-wal-'));
    file = path.join(dir, 'cabinet.sqlite');
    connection = openDatabase({ kind: 'sqlite', file });
  });
  afterEach(async () => {
    await connection.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const autocheckpoint = (db: SQLite.Database) =>
    db.pragma('wal_autocheckpoint', { simple: true }) as number;

  it('are run by the worker once the log holds 1,000 frames, and reach the database file', async () => {
    const { db, checkpointer } = connection;
    expect(checkpointer).not.toBeNull();
    await sql`create table pages (body blob not null)`.execute(db);
    // One transaction of ~2× the threshold: each 4 KiB row takes a page of its own.
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < 2 * CHECKPOINT_FRAMES; i++) {
        await sql`insert into pages (body) values (zeroblob(4000))`.execute(trx);
      }
    });
    // A condition, not a time: a busy machine only makes the worker's next tick later.
    await eventually(async () => checkpointer!.checkpoints >= 1, 60_000);

    // The database file alone, without its log, now holds the rows.
    const copy = path.join(dir, 'copy.sqlite');
    await fs.copyFile(file, copy);
    const alone = new SQLite(copy, { readonly: true });
    try {
      expect(alone.prepare('select count(*) as n from pages').get()).toEqual({
        n: 2 * CHECKPOINT_FRAMES,
      });
    } finally {
      alone.close();
    }
  });

  it("leave the writer's own checkpoint as a backstop, back at SQLite's default once stopped", async () => {
    const writer = new SQLite(file);
    try {
      // The pragma belongs to a connection, and Kysely keeps its own out of reach: a
      // checkpointer on one of the test's own shows it.
      const checkpointer = startWalCheckpointer(file, writer);
      expect(autocheckpoint(writer)).toBe(4 * CHECKPOINT_FRAMES);
      await checkpointer.close();
      expect(autocheckpoint(writer)).toBe(CHECKPOINT_FRAMES);
    } finally {
      writer.close();
    }
  });

  it('give the writer its own checkpoints back, and say so, when the worker fails', async () => {
    const writer = new SQLite(file);
    try {
      const stopped: Error[] = [];
      // A database the worker cannot open: it fails at its start.
      startWalCheckpointer(path.join(dir, 'missing', 'cabinet.sqlite'), writer, {
        onStop: (error) => stopped.push(error),
      });
      await eventually(async () => stopped.length === 1, 60_000);
      expect(autocheckpoint(writer)).toBe(CHECKPOINT_FRAMES);
    } finally {
      writer.close();
    }
  });
});
