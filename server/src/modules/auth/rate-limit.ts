import { createHash } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Connection } from '../../db/connection.js';
import { RateLimitedError } from '../../errors.js';

export interface AuthRateLimits {
  /** Counts one sign-in or sign-up attempt from `address`; throws RATE_LIMITED past the limit. */
  attempt(address: string): Promise<void>;
  /**
   * Counts a sign-in attempt for `email` before its password is checked, and throws RATE_LIMITED
   * once the email's window holds more than the allowed failures. Counted first, in one atomic
   * step, so guesses sent at once cannot all pass a check made before any of them failed.
   */
  beginSignIn(email: string): Promise<void>;
  /** A successful sign-in clears the email's window (its attempt was no failure). */
  succeededSignIn(email: string): Promise<void>;
}

/** A key's fixed window: how many points it holds and how long until it ends. */
interface LimiterWindow {
  points: number;
  msLeft: number;
}

/**
 * Fixed-window counters under one prefix. A window opens with the first point a key gets and
 * lasts `duration` seconds; the limit itself is the caller's business.
 */
export interface Limiter {
  /** Adds points to the key's open window (opening one if needed) and returns it afterwards. */
  add(key: string, points?: number): Promise<LimiterWindow>;
  /** The key's open window, or null when it has none. */
  get(key: string): Promise<LimiterWindow | null>;
  delete(key: string): Promise<void>;
}

/**
 * What per-address limits count a client address under: an IPv4 address itself, an IPv6
 * address's /64. An IPv6 host is usually given a whole /64 and may take a new address from it
 * for every request; counted by address, each would get a fresh limit (and a fresh window kept
 * in memory). IPv4-mapped IPv6 addresses count as their IPv4 address; anything that is not an
 * address (a misconfigured proxy's header) counts as its first 64 characters.
 */
export function addressKey(address: string): string {
  if (!ipaddr.isValid(address)) return address.slice(0, 64);
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const hextets = (parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16));
  return `${hextets.join(':')}::/64`;
}

export type LimiterFactory = (options: { keyPrefix: string; duration: number }) => Limiter;

const fromRes = (res: RateLimiterRes): LimiterWindow => ({
  points: res.consumedPoints,
  msLeft: res.msBeforeNext,
});

/**
 * In-process counters: right for one process (the SQLite setup). Several instances each keep
 * their own, so an attacker spreading attempts over N instances would get N times the limit.
 */
export const memoryLimiters: LimiterFactory = ({ keyPrefix, duration }) => {
  // `points` is required by the library but unused: penalty() and get() never reject.
  const limiter = new RateLimiterMemory({ keyPrefix, duration, points: 1 });
  return {
    add: async (key, points = 1) => fromRes(await limiter.penalty(key, points)),
    async get(key) {
      const res = await limiter.get(key);
      return res && res.msBeforeNext > 0 ? fromRes(res) : null;
    },
    async delete(key) {
      await limiter.delete(key);
    },
  };
};

/** The table the PostgreSQL store writes to; created by a migration, not by the store. */
export const RATE_LIMIT_TABLE = 'rate_limit_windows';

/**
 * Counters in PostgreSQL (rate-limiter-flexible's store), shared by every instance on the
 * database. Each add is one atomic upsert, so concurrent attempts through different instances
 * are all counted. Keys are stored hashed: the table never holds the emails or addresses being
 * limited.
 */
export function postgresLimiters(pool: pg.Pool): LimiterFactory {
  return ({ keyPrefix, duration }) => {
    const limiter = new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: RATE_LIMIT_TABLE,
      tableCreated: true,
      keyPrefix,
      duration,
      points: 1,
    });
    const hashed = (key: string) => createHash('sha256').update(key).digest('hex');
    return {
      add: async (key, points = 1) => fromRes(await limiter.penalty(hashed(key), points)),
      async get(key) {
        const res = await limiter.get(hashed(key));
        return res && res.msBeforeNext > 0 ? fromRes(res) : null;
      },
      async delete(key) {
        await limiter.delete(hashed(key));
      },
    };
  };
}

/**
 * Where counters live: in the database on PostgreSQL, where several instances may share it and a
 * per-process limit would multiply by the number of instances; in memory on SQLite.
 */
export const limiterFactoryFor = (connection: Pick<Connection, 'pgPool'>): LimiterFactory =>
  connection.pgPool ? postgresLimiters(connection.pgPool) : memoryLimiters;

const FAILED_SIGN_INS_PER_EMAIL = 10;

/** An email's sign-ins are locked; `first` on the attempt that crossed the limit (audit log). */
export class SignInLockedError extends RateLimitedError {
  constructor(
    retryAfter: number,
    readonly first: boolean,
  ) {
    super(retryAfter);
  }
}

export function createAuthRateLimits(
  perAddress: number,
  factory: LimiterFactory = memoryLimiters,
): AuthRateLimits {
  const byAddress = factory({ keyPrefix: 'auth_addr', duration: 10 * 60 });
  const byEmail = factory({ keyPrefix: 'auth_email', duration: 15 * 60 });

  const limited = (window: LimiterWindow) =>
    new RateLimitedError(Math.max(1, Math.ceil(window.msLeft / 1000)));

  return {
    async attempt(address) {
      const window = await byAddress.add(addressKey(address));
      if (window.points > perAddress) throw limited(window);
    },
    async beginSignIn(email) {
      const window = await byEmail.add(email);
      if (window.points > FAILED_SIGN_INS_PER_EMAIL) {
        throw new SignInLockedError(
          limited(window).retryAfter,
          window.points === FAILED_SIGN_INS_PER_EMAIL + 1,
        );
      }
    },
    async succeededSignIn(email) {
      await byEmail.delete(email);
    },
  };
}
