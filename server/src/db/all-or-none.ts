import type { Db, Executor } from './database.js';

/**
 * Runs `body` in a transaction that writes all of its changes or none: when `body` answers null
 * (a row it needed was gone), everything it wrote is rolled back and the answer is null.
 */
export async function allOrNone<T>(
  db: Db,
  body: (trx: Executor) => Promise<T | null>,
): Promise<T | null> {
  const rollBack = new Error('rolled back');
  try {
    return await db.transaction().execute(async (trx) => {
      const done = await body(trx);
      if (done === null) throw rollBack;
      return done;
    });
  } catch (err) {
    if (err === rollBack) return null;
    throw err;
  }
}
