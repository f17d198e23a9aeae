import type { Executor } from '../../db/database.js';
import { QuotaExceededError } from '../../errors.js';
import { findUserUsage } from '../users/users.repository.js';

/**
 * Storage quotas. users.used_bytes is kept by triggers (migration 2026-12-04T0300b_trash_quotas),
 * so it is exact whatever runs at once; an upload is checked three times: by its declared size
 * before its body is read, by its streamed size while it arrives, and in the transaction that
 * makes it a file, after its row counted (on PostgreSQL that row's trigger holds the user's row
 * until commit, so concurrent uploads are checked one after the other and none can slip past).
 */
export function createQuota(defaultQuotaBytes: number | null) {
  async function usage(db: Executor, userId: number) {
    const row = await findUserUsage(db, userId);
    const used = Number(row?.used_bytes ?? 0);
    const quota = row ? (row.quota_bytes ?? defaultQuotaBytes) : defaultQuotaBytes;
    return { used, quota: quota === null ? null : Number(quota) };
  }

  return {
    /** Bytes the user may still add, or null for no limit. */
    async room(db: Executor, userId: number): Promise<number | null> {
      const { used, quota } = await usage(db, userId);
      return quota === null ? null : Math.max(0, quota - used);
    },

    /**
     * The error for `bytes` more than the user may add, on top of `pending` bytes already promised
     * to their unfinished resumable uploads, or null when they fit.
     */
    async refusal(
      db: Executor,
      userId: number,
      bytes: number,
      pending = 0,
    ): Promise<QuotaExceededError | null> {
      const { used, quota } = await usage(db, userId);
      return quota !== null && used + pending + bytes > quota
        ? new QuotaExceededError(quota, used, pending)
        : null;
    },

    /**
     * In the upload's transaction, after its row of `bytes` counted: throws if the user is now
     * over (the error tells what was used before this upload).
     */
    async assertWithin(trx: Executor, userId: number, bytes: number): Promise<void> {
      const { used, quota } = await usage(trx, userId);
      if (quota !== null && used > quota) throw new QuotaExceededError(quota, used - bytes);
    },
  };
}

export type Quota = ReturnType<typeof createQuota>;
