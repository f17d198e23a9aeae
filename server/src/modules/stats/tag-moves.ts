import { sql } from 'kysely';
import type { Dialect } from '../../db/connection.js';
import type { Executor } from '../../db/database.js';
import { retryOnDeadlock } from '../../db/lock-order.js';

// PostgreSQL's tag rollups fold a link's downloads in later (migration
// 2026-12-10T0900_tag_link_moves): (un)linking a tag records a move in `tag_link_moves`, and
// `fold_tag_link_moves` applies the recorded moves to the tags' day, total and hour rollups. The
// rollups are exact for every other change at all times; they lag only behind links whose moves
// are not folded yet. So every read of a tag's rollups folds first, and a timer (server.ts) folds
// in the background so that the read rarely finds anything to do. SQLite moves a link's downloads
// in its own triggers: nothing to fold there.

/** Files a fold transaction takes at most: each holds their rows' locks while it runs. */
const FOLD_FILES = 500;

/** Folds every recorded move, 500 files a transaction; resolves to how many it applied. */
export async function foldTagLinkMoves(db: Executor, dialect: Dialect): Promise<number> {
  if (dialect !== 'postgres') return 0;
  let total = 0;
  for (;;) {
    // One statement, its own transaction: the function's row locks last until it returns.
    const folded = await retryOnDeadlock(dialect, async () => {
      const { rows } = await sql<{ folded: number }>`
        select fold_tag_link_moves(${FOLD_FILES}) as folded`.execute(db);
      return Number(rows[0]?.folded ?? 0);
    });
    total += folded;
    // None left, or only moves of files this fold could not lock (a restore in flight): the
    // next fold takes those.
    if (folded === 0) return total;
  }
}

/** How many moves wait to be folded. */
export async function pendingTagLinkMoves(db: Executor, dialect: Dialect): Promise<number> {
  if (dialect !== 'postgres') return 0;
  const { rows } = await sql<{ n: number }>`select count(*) as n from tag_link_moves`.execute(db);
  return Number(rows[0]?.n ?? 0);
}
