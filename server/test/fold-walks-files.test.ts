import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { migrations } from '../../migrations/index.js';
import { bareDatabase, insertBareFiles, insertBareUser, type UntypedDb } from './harness.js';

// Migration 2026-12-13T0900_fold_walks_files (PostgreSQL): a fold picks its files by walking the
// (file_id) index of tag_link_moves, so its cost follows the files it folds, not the moves that
// wait. Measured here by what the fold makes PostgreSQL read of the table: before the migration,
// folding 500 files of 10,000 waiting (never analyzed, as right after a bulk retag) read every
// move.

const MIGRATION = '2026-12-13T0900_fold_walks_files';
const BEFORE = '2026-12-12T0900_upload_sessions_by_user';
const FILES = 10_000;
/** What the server folds in one transaction (tag-moves.ts). */
const FOLD = 500;

const bare = bareDatabase();

it.runIf(process.env.TEST_DATABASE_URL)(
  'folds 500 of 10,000 waiting files reading their moves, not every move; and migrates both ways',
  async () => {
    const { db } = bare.connection;
    const old = db as unknown as UntypedDb;
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
    // The statistics of a table that fills and empties in bursts describe some other moment; here
    // there are none, and autovacuum must not gather them midway (with them, the old pick can
    // walk the index too, and the test would measure the planner's luck on a busy machine).
    await sql`alter table tag_link_moves set (autovacuum_enabled = false)`.execute(db);

    const now = Date.now();
    const userId = await insertBareUser(old, now);
    const [first] = await insertBareFiles(old, userId, now, ['a']);
    await sql`insert into files (name, name_sort, original_name, size, sha256, mime_type,
        uploaded_by, created_at, updated_at)
      select 'f' || i, 'f' || i, 'f' || i, 1, ${first!.sha256}, 'text/plain', ${userId}, ${now}, ${now}
      from generate_series(2, ${FILES}) i`.execute(db);
    for (const name of ['red', 'blue']) {
      await sql`insert into tags (name, name_key, name_sort, created_at)
        values (${name}, ${name}, ${name}, ${now})`.execute(db);
    }
    await sql`insert into file_tags (file_id, tag_id) select f.id, t.id from files f, tags t`.execute(
      db,
    );

    /** Moves one fold of 500 files reads, by sequential scans and through indexes. */
    const foldOnce = () =>
      db.connection().execute(async (c) => {
        const read = async () => {
          await sql`select pg_stat_force_next_flush()`.execute(c);
          await sql`select pg_stat_clear_snapshot()`.execute(c);
          const { rows } = await sql<{ seq: string; idx: string }>`
            select coalesce(seq_tup_read, 0) as seq, coalesce(idx_tup_fetch, 0) as idx
            from pg_stat_user_tables where relname = 'tag_link_moves'`.execute(c);
          return Number(rows[0]!.seq) + Number(rows[0]!.idx);
        };
        const before = await read();
        const { rows } = await sql<{ n: number }>`select fold_tag_link_moves(${FOLD}) as n`.execute(
          c,
        );
        expect(Number(rows[0]!.n)).toBe(2 * FOLD);
        const after = await read();
        return after - before;
      });

    // Every waiting move before; the 1,000 folded, one probe a file and what is read twice after.
    expect(await foldOnce()).toBeGreaterThanOrEqual(2 * FILES - 2 * FOLD);
    expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
    expect(await foldOnce()).toBeLessThan(4 * FOLD);

    // Down and up again: the old pick comes back, then the walk; the folds still fold.
    expect((await migrator.migrateTo(BEFORE)).error).toBeUndefined();
    expect(await foldOnce()).toBeGreaterThanOrEqual(2 * FILES - 6 * FOLD);
    expect((await migrator.migrateTo(MIGRATION)).error).toBeUndefined();
    expect(await foldOnce()).toBeLessThan(4 * FOLD);
    const { rows } = await sql<{ n: string }>`select count(*) as n from tag_link_moves`.execute(db);
    expect(Number(rows[0]!.n)).toBe(2 * FILES - 8 * FOLD);
  },
);
