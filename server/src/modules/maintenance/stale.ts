import type { Dialect } from '../../db/connection.js';
import type { Db } from '../../db/database.js';
import { tempKeyInstance } from '../../storage/keys.js';
import type { StorageDriver } from '../../storage/storage.js';
import { createBlobLock } from '../blobs/blob-lock.js';
import {
  blobIntentExists,
  blobIsReferenced,
  listBlobIntents,
  removeBlobIntent,
  type BlobIntent,
} from '../blobs/blobs.repository.js';
import { liveInstances, removeLapsedLeases } from './instances.repository.js';

/**
 * Temp keys of the old shape name no instance; one this old cannot belong to an upload still
 * streaming (the age-based rule from before leases).
 */
export const LEGACY_TEMP_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export interface StaleTemp {
  tempKey: string;
  /** Null for a key of the old shape (stale by age). */
  instance: string | null;
  modifiedAt: number;
}

export interface StaleFindings {
  temps: StaleTemp[];
  intents: BlobIntent[];
  /** Temp objects and intents of live instances: uploads and commits in flight, left alone. */
  inFlight: { temps: number; intents: number };
}

export interface SweepResult {
  temps: number;
  intents: number;
  /** Objects deleted because a crashed commit left them without a blobs row. */
  blobs: number;
  leases: number;
}

/**
 * What crashed processes left behind: temp objects and blob intents whose instance holds no live
 * lease, and temp keys of the old shape older than a day.
 *
 * Storage is listed and the intents read before the leases are checked: an instance registers
 * its lease before it creates its first temp object or intent, so whatever the listing found
 * belongs to an instance whose lease the later check sees, if that instance is alive.
 */
export async function findStale(
  db: Db,
  dialect: Dialect,
  storage: StorageDriver,
  options: { self?: string | null; now?: number } = {},
): Promise<StaleFindings> {
  const now = options.now ?? Date.now();
  const temps: StaleTemp[] = [];
  for await (const t of storage.listTemp()) {
    temps.push({ ...t, instance: tempKeyInstance(t.tempKey) });
  }
  const intents = await listBlobIntents(db);
  const named = new Set<string>();
  for (const t of temps) if (t.instance) named.add(t.instance);
  for (const i of intents) named.add(i.instance);
  const live = await liveInstances(db, dialect, [...named]);
  // A sweeping instance is alive whatever its row says: a renewal delayed by a busy event loop
  // must not make it remove its own uploads in flight.
  if (options.self) live.add(options.self);
  const staleTemps = temps.filter((t) =>
    t.instance === null ? t.modifiedAt <= now - LEGACY_TEMP_MAX_AGE_MS : !live.has(t.instance),
  );
  const staleIntents = intents.filter((i) => !live.has(i.instance));
  return {
    temps: staleTemps,
    intents: staleIntents,
    inFlight: {
      temps: temps.filter((t) => t.instance !== null && live.has(t.instance)).length,
      intents: intents.length - staleIntents.length,
    },
  };
}

/**
 * Settles a crashed commit: under the blob's lock (so no commit or deletion of the same bytes runs
 * meanwhile, here or on another instance), the stored object is deleted unless a blobs row
 * references it, then the intent goes. Resolves to whether the object was deleted.
 */
export async function resolveIntent(
  db: Db,
  dialect: Dialect,
  storage: StorageDriver,
  intent: BlobIntent,
): Promise<boolean> {
  const withBlobLock = createBlobLock(db, dialect);
  return withBlobLock(intent.sha256, async (conn) => {
    // Another sweeper may have settled it while this one waited for the lock.
    if (!(await blobIntentExists(conn, intent.instance, intent.sha256))) return false;
    let deleted = false;
    if (!(await blobIsReferenced(conn, intent.sha256))) {
      await storage.delete(intent.sha256);
      deleted = true;
    }
    await removeBlobIntent(conn, intent.instance, intent.sha256);
    return deleted;
  });
}

/** Removes what `findStale` finds, then the lapsed leases themselves. */
export async function sweepStale(
  db: Db,
  dialect: Dialect,
  storage: StorageDriver,
  options: { self?: string | null; onError?: (err: unknown, what: string) => void } = {},
): Promise<SweepResult> {
  const onError = options.onError ?? (() => undefined);
  const found = await findStale(db, dialect, storage, { self: options.self ?? null });
  const result: SweepResult = { temps: 0, intents: 0, blobs: 0, leases: 0 };
  // One failure (a flaky store) must not stop the rest; the next sweep retries it.
  for (const t of found.temps) {
    try {
      await storage.discardTemp(t.tempKey);
      result.temps++;
    } catch (err) {
      onError(err, `temp ${t.tempKey}`);
    }
  }
  for (const intent of found.intents) {
    try {
      if (await resolveIntent(db, dialect, storage, intent)) result.blobs++;
      result.intents++;
    } catch (err) {
      onError(err, `intent ${intent.instance}/${intent.sha256}`);
    }
  }
  result.leases = await removeLapsedLeases(db, dialect, options.self ?? null);
  return result;
}
