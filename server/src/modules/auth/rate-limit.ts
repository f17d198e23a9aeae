import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitedError } from '../../errors.js';

export interface AuthRateLimits {
  /** Counts one sign-in or sign-up attempt from `address`; throws RATE_LIMITED past the limit. */
  attempt(address: string): Promise<void>;
  /** Throws RATE_LIMITED when `email` already had too many failed sign-ins. */
  checkEmail(email: string): Promise<void>;
  failedSignIn(email: string): Promise<void>;
  succeededSignIn(email: string): Promise<void>;
}

export type LimiterFactory = (options: {
  keyPrefix: string;
  points: number;
  duration: number;
}) => RateLimiterAbstract;

/** In-process counters; a PostgreSQL-backed factory shares them between instances. */
export const memoryLimiters: LimiterFactory = (options) => new RateLimiterMemory(options);

const FAILED_SIGN_INS_PER_EMAIL = 10;

export function createAuthRateLimits(
  perAddress: number,
  factory: LimiterFactory = memoryLimiters,
): AuthRateLimits {
  const byAddress = factory({ keyPrefix: 'auth_addr', points: perAddress, duration: 10 * 60 });
  const byEmail = factory({
    keyPrefix: 'auth_email',
    points: FAILED_SIGN_INS_PER_EMAIL,
    duration: 15 * 60,
  });

  const rethrow = (e: unknown): never => {
    if (e instanceof RateLimiterRes)
      throw new RateLimitedError(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
    throw e;
  };

  return {
    async attempt(address) {
      await byAddress.consume(address).catch(rethrow);
    },
    async checkEmail(email) {
      const res = await byEmail.get(email);
      if (res && res.consumedPoints >= FAILED_SIGN_INS_PER_EMAIL) rethrow(res);
    },
    async failedSignIn(email) {
      await byEmail.penalty(email, 1);
    },
    async succeededSignIn(email) {
      await byEmail.delete(email);
    },
  };
}
