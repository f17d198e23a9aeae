import { PostgresAdapter, sql, type Kysely } from 'kysely';

// PostgreSQL: the statement-level update triggers of `files` and `trashed_files` (migration
// 2026-12-06T1000b_statement_triggers) ask, before each of their steps, whether any row changed
// the columns the step reads: `if exists (select 1 from old_rows o join new_rows n on n.id = o.id
// where …)`. For EXISTS the planner wants the first row fast and joins the two transition tables
// by nested loop; when no row changed (an update of `updated_at` alone, which every retag makes)
// that loop compares every old row with every new one: 1,000,000 pairs for 1,000 files, ~90 ms a
// check, four checks, 220 ms of a 300 ms UPDATE (auto_explain). Asked as an aggregate,
// `bool_or(…)` over the same join, the planner has to read the whole join and hashes it: 7 ms for
// the four checks together, and the same answer.
//
// The functions are rewritten from their current definitions, so this migration changes nothing
// else in them; it fails if a check is not where it expects one.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/** Each function, and how many change checks it holds. */
const FUNCTIONS = { files_rows_update: 4, trashed_files_rows_change: 1 };

const EXISTS =
  /if exists \(select 1 from (old_rows o join new_rows n on n\.id = o\.id) where ([^\n]*?)\) then/g;
const AGGREGATE =
  /if \(select coalesce\(bool_or\(([^\n]*?)\), false\) from (old_rows o join new_rows n on n\.id = o\.id)\) then/g;

async function rewrite(db: Db, from: RegExp, to: (...groups: string[]) => string): Promise<void> {
  for (const [name, checks] of Object.entries(FUNCTIONS)) {
    const { rows } = await sql<{ def: string }>`
      select pg_get_functiondef(${name}::regproc) as def`.execute(db);
    const def = rows[0]!.def;
    const found = [...def.matchAll(from)].length;
    if (found !== checks) throw new Error(`${name}: ${found} change checks, expected ${checks}`);
    const next = def.replace(from, (_all, a: string, b: string) => to(a, b));
    await sql.raw(next).execute(db);
  }
}

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await rewrite(
    db,
    EXISTS,
    (pairs, changed) => `if (select coalesce(bool_or(${changed}), false) from ${pairs}) then`,
  );
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  await rewrite(
    db,
    AGGREGATE,
    (changed, pairs) => `if exists (select 1 from ${pairs} where ${changed}) then`,
  );
}
