import type { Dialect } from '../../db/connection.js';
import type { Db } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import { newInstanceId } from '../../storage/keys.js';
import type { StorageDriver } from '../../storage/storage.js';
import { recordBlobIntentsAs } from '../blobs/blob-lock.js';
import { removeLease, removeOtherLeases, renewLease } from './instances.repository.js';
import { sweepStale, type SweepResult } from './stale.js';

export interface Lease {
  /** This process's instance id: give it to the storage driver, so temp keys name it. */
  readonly id: string;
  /**
   * Sweeps what crashed processes left, now and (PostgreSQL, where other instances may crash
   * while this one runs) every lease period. Resolves with the first sweep's result.
   */
  startSweeping(storage: StorageDriver): Promise<SweepResult>;
  /** Stops the timers, waits for a running sweep and gives up the lease. */
  close(): Promise<void>;
}

/**
 * Takes a lease for this process: a row renewed four times per `leaseMs` (unref'd timer, so it
 * never keeps the process alive) and removed on close. A process that stops renewing, because it
 * crashed or hung, counts as gone once `leaseMs` passed; its temp objects and blob intents are
 * then anybody's to clean up (stale.ts).
 */
export async function acquireLease(
  db: Db,
  dialect: Dialect,
  options: { leaseMs: number; log: Logger },
): Promise<Lease> {
  const { leaseMs, log } = options;
  const id = newInstanceId();
  await renewLease(db, dialect, id, leaseMs);
  recordBlobIntentsAs(db, id);

  // Renewals and sweeps in flight, awaited by close() before the connection goes.
  const running = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    const settled = p.catch(() => undefined).finally(() => running.delete(settled));
    running.add(settled);
  };

  const renewTimer = setInterval(
    () =>
      track(
        renewLease(db, dialect, id, leaseMs).then(
          (existed) => {
            // Another instance thought this one dead (renewals failed for a whole lease period)
            // and may have removed its temp uploads; those uploads fail, nothing worse.
            if (!existed) log.warn({ instance: id }, 'lease had lapsed and was taken again');
          },
          (err: unknown) => log.warn({ err }, 'could not renew the instance lease'),
        ),
      ),
    Math.max(250, Math.floor(leaseMs / 4)),
  );
  renewTimer.unref();
  let sweepTimer: NodeJS.Timeout | null = null;

  const sweep = async (storage: StorageDriver): Promise<SweepResult> => {
    const result = await sweepStale(db, dialect, storage, {
      self: id,
      onError: (err, what) => log.warn({ err, what }, 'could not remove a crash leftover'),
    });
    if (result.temps || result.intents || result.leases) {
      log.info({ ...result }, 'removed what crashed instances left behind');
    }
    return result;
  };

  return {
    id,
    async startSweeping(storage) {
      // One process per SQLite database: every other lease is a crashed earlier run.
      if (dialect === 'sqlite') await removeOtherLeases(db, id);
      const first = sweep(storage);
      track(first);
      const result = await first;
      if (dialect === 'postgres') {
        sweepTimer = setInterval(
          () =>
            track(sweep(storage).catch((err: unknown) => log.warn({ err }, 'stale sweep failed'))),
          leaseMs,
        );
        sweepTimer.unref();
      }
      return result;
    },
    async close() {
      clearInterval(renewTimer);
      if (sweepTimer) clearInterval(sweepTimer);
      await Promise.all(running);
      recordBlobIntentsAs(db, null);
      await removeLease(db, id);
    },
  };
}
