import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: `fold_tag_link_moves(n)` (migration 2026-12-10T0900_tag_link_moves) picked the
// files of its transaction with `select distinct file_id … order by file_id limit n`. The planner
// seldom knows how many distinct files `tag_link_moves` holds (the table fills and empties in
// bursts, and autovacuum's statistics describe some other moment), guesses 200, and hashes every
// waiting move to find the first 500 files: after 1,000,000 links had been added (the seed; a
// bulk retag of every matching file does the same) each fold of 500 files read all of them, 3 s
// a call, and a statistics request folds before it reads. The files are now taken one index
// probe each (`tag_link_moves_file`), each the next file id above the last: 500 probes, whatever
// the table holds (0.1 s against 1.6 s at 1,800,000 moves, cold).
//
// The function is rewritten from its current definition, so nothing else in it changes; the
// migration fails if the statement is not where it expects it.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

const DISTINCT = `select array_agg(file_id) into ids from (
        select distinct m.file_id from tag_link_moves m order by m.file_id limit max_files) f;`;

// max_files null (the old migration's down()) takes every file, as `limit null` did.
const WALK = `with recursive f (id, n) as (
          (select m.file_id, 1 from tag_link_moves m order by m.file_id limit 1)
          union all
          select (select m.file_id from tag_link_moves m where m.file_id > f.id
              order by m.file_id limit 1), f.n + 1
            from f where f.id is not null and (max_files is null or f.n < max_files))
        select array_agg(id) into ids from f where id is not null;`;

async function rewrite(db: Db, from: string, to: string): Promise<void> {
  const { rows } = await sql<{ def: string }>`
    select pg_get_functiondef('fold_tag_link_moves'::regproc) as def`.execute(db);
  const def = rows[0]!.def;
  if (def.split(from).length !== 2) throw new Error('fold_tag_link_moves: its file pick not found');
  await sql.raw(def.replace(from, to)).execute(db);
}

export async function up(db: Db): Promise<void> {
  if (isPostgres(db)) await rewrite(db, DISTINCT, WALK);
}

export async function down(db: Db): Promise<void> {
  if (isPostgres(db)) await rewrite(db, WALK, DISTINCT);
}
