import { PostgresAdapter, sql, type Kysely } from 'kysely';
import { triggerBodies } from './2026-12-10T0900_tag_link_moves.js';

// PostgreSQL: a download counts toward its file's tags by the links' folded weights
// (`tag_link_weights`, migration 2026-12-10T0900_tag_link_moves) only when one of the statement's
// files has a link move waiting to be folded, which is rare (the fold runs within seconds). Else
// the links as they are give the same weights, and a plain join on `file_tags` finds them.
// `tag_link_weights` is a function the planner cannot inline (its argument is a subquery), so each
// of its three calls per download planned and ran a query of its own: the SQL of one download (the
// file's counter update and the history row with every trigger) took 1.08–1.13 ms with it, against
// 0.51–0.56 ms before that migration.
//
// Exact as before: a download has locked its file's row before it writes the history row, and a
// retag, trash, restore or fold of the file waits on that lock. So for the statement's files the
// check and the statements after it see the same links and the same moves.

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen in time and must not depend on the app's evolving Database type
type Db = Kysely<any>;

const isPostgres = (db: Db) => db.getExecutor().adapter instanceof PostgresAdapter;

/** The downloads trigger functions, with the transition tables each one reads. */
const DOWNLOAD_TRIGGERS = {
  download_rollups_insert: ['inserted'],
  download_rollups_delete: ['removed'],
  download_rollups_update: ['removed', 'inserted'],
  download_tag_hours_insert: ['inserted'],
  download_tag_hours_delete: ['removed'],
  download_tag_hours_update: ['removed', 'inserted'],
} as const;

/** True when a file of the transition tables `changed` has a link move waiting. */
const movesWait = (changed: readonly string[]) =>
  changed
    .map(
      (table) => `exists (select 1 from tag_link_moves m
        where m.file_id in (select c.file_id from ${table} c where c.file_id is not null))`,
    )
    .join(' or ');

async function replace(db: Db, fn: string, body: string) {
  await sql`
    create or replace function ${sql.id(fn)}() returns trigger language plpgsql as $$
    begin ${sql.raw(body)} return null; end $$`.execute(db);
}

export async function up(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  const folded = triggerBodies('folded');
  const immediate = triggerBodies('immediate');
  for (const [fn, changed] of Object.entries(DOWNLOAD_TRIGGERS)) {
    await replace(
      db,
      fn,
      `if ${movesWait(changed)} then ${folded[fn]} else ${immediate[fn]} end if;`,
    );
  }
}

export async function down(db: Db): Promise<void> {
  if (!isPostgres(db)) return;
  const folded = triggerBodies('folded');
  for (const fn of Object.keys(DOWNLOAD_TRIGGERS)) await replace(db, fn, folded[fn] ?? '');
}
