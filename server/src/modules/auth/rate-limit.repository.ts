import type { Executor } from '../../db/database.js';

export interface RateLimitWindow {
  points: number;
  expires_at: number;
}

/**
 * Adds `points` to `key`'s open window, or opens a new one ending at `expiresAt` when the key has
 * none or its window ended by `now`. One statement: concurrent callers on any instance each see
 * their own increment (the row lock of ON CONFLICT DO UPDATE serializes them), never a lost update.
 */
export async function addRateLimitPoints(
  db: Executor,
  key: string,
  points: number,
  now: number,
  expiresAt: number,
): Promise<RateLimitWindow> {
  return db
    .insertInto('rate_limits')
    .values({ key, points, expires_at: expiresAt })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        const ended = eb('rate_limits.expires_at', '<=', now);
        return {
          points: eb
            .case()
            .when(ended)
            .then(eb.ref('excluded.points'))
            .else(eb('rate_limits.points', '+', eb.ref('excluded.points')))
            .end(),
          expires_at: eb
            .case()
            .when(ended)
            .then(eb.ref('excluded.expires_at'))
            .else(eb.ref('rate_limits.expires_at'))
            .end(),
        };
      }),
    )
    .returning(['points', 'expires_at'])
    .executeTakeFirstOrThrow();
}

/** The key's window if it is still open at `now`. */
export async function findRateLimitWindow(
  db: Executor,
  key: string,
  now: number,
): Promise<RateLimitWindow | undefined> {
  return db
    .selectFrom('rate_limits')
    .select(['points', 'expires_at'])
    .where('key', '=', key)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function deleteRateLimitWindow(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

/** Removes windows that ended by `now`; returns how many. */
export async function deleteEndedRateLimitWindows(db: Executor, now: number): Promise<number> {
  const result = await db
    .deleteFrom('rate_limits')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
