import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db, FileRow } from '../../db/database.js';
import { requestLog } from '../../request-log.js';
import { derivedKey } from '../../storage/keys.js';
import type { StorageDriver } from '../../storage/storage.js';
import {
  claimDerived,
  findDerived,
  findImpossible,
  forgetDerived,
  settleDerived,
  type DerivedId,
  type DerivedRow,
} from './previews.repository.js';
import {
  DEFAULT_LIMITS,
  makeThumbnail,
  maybeThumbnailSource,
  NoThumbnail,
  thumbnailSource,
  type ThumbnailLimits,
} from './thumbnailer.js';

/** Long sides of the thumbnails served (`/files/:id/thumbnail?size=`). */
export const THUMBNAIL_SIZES = [256, 1024] as const;
export type ThumbnailSize = (typeof THUMBNAIL_SIZES)[number];

export const thumbnailPath = (id: number, size: ThumbnailSize = 256) =>
  `/files/${id}/thumbnail?size=${size}`;
export const previewPath = (id: number) => `/files/${id}/preview`;

/** How the preview route serves a type inline, or null when it does not (404). */
export type PreviewKind = 'image' | 'audio' | 'video' | 'pdf' | 'text';

// Raster types every current browser decodes itself; SVG is a document, never served inline.
const INLINE_IMAGES = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
]);
const TEXT_TYPES =
  /^(text\/|application\/(json|ld\+json|javascript|x-javascript|ecmascript|xml|x-sh|x-yaml|yaml|toml|sql|x-httpd-php|x-python|x-ruby|x-perl|typescript)$|image\/svg\+xml$)/;

export function previewKind(mimeType: string): PreviewKind | null {
  const type = mimeType.toLowerCase();
  if (INLINE_IMAGES.has(type)) return 'image';
  if (type === 'application/pdf') return 'pdf';
  if (/^audio\/[\w.+-]+$/.test(type)) return 'audio';
  if (/^video\/[\w.+-]+$/.test(type)) return 'video';
  if (TEXT_TYPES.test(type)) return 'text';
  return null;
}

/** How long a request waits for another instance making the same thumbnail. */
const MAX_WAIT_MS = 10_000;

export interface Thumbnail {
  bytes: Buffer;
  /** Stable for the blob and size: the ETag. */
  tag: string;
}

/**
 * Thumbnails, made on first request and kept as derived objects of the blob (SHA-256 and size),
 * shared by every file with those bytes and every instance on the same store.
 *
 * Concurrent first requests make one: within a process through `making` (one promise per
 * object), across instances through the `derived_objects` row that one of them claims; the
 * others wait for the row to settle. A source that cannot be made into a thumbnail is remembered
 * (`none`), a passing failure (storage) is not.
 */
export function createPreviewsService(deps: {
  db: Db;
  storage: StorageDriver;
  limits?: Partial<ThumbnailLimits>;
  /** Thumbnails made at once by this instance; default: the available cores. */
  concurrency?: number;
}) {
  const { db, storage } = deps;
  const limits: ThumbnailLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  // A claim outlives the time limit a little, so a live maker is never taken over.
  const claimMs = limits.timeoutMs + 15_000;
  const making = new Map<string, Promise<Thumbnail | null | 'busy'>>();
  // As many at a time as the machine has cores: sharp runs each in one libuv thread, with
  // libvips' own pool at one thread where sharp keeps it so (glibc without jemalloc), so a
  // fixed two left cores idle on bigger machines while a gallery filled in.
  const slots = semaphore(deps.concurrency ?? Math.max(1, os.availableParallelism()));

  async function stored(
    id: DerivedId,
    key: string,
    tag: string,
  ): Promise<Thumbnail | null | 'busy'> {
    const bytes = await storage.readDerived(key);
    if (bytes) return { bytes, tag };
    // The object went (a store restored without it): made again.
    await forgetDerived(db, id, { state: 'ready' });
    return null;
  }

  async function make(
    file: FileRow,
    id: DerivedId,
    key: string,
  ): Promise<Thumbnail | null | 'busy'> {
    const source = await thumbnailSource(file.mime_type);
    if (!source) return null;
    const tag = `${file.sha256}-${id.variant}`;
    let first = await findDerived(db, id);
    if (first?.state === 'none') return null;
    if (first?.state === 'ready') {
      const found = await stored(id, key, tag);
      if (found) return found;
      first = null;
    }
    // Claimed only once a slot is free, so a claim never lapses while its maker queues.
    return slots(async (queued) => {
      const claim = randomBytes(12).toString('hex');
      const waitingSince = Date.now();
      // The row read above still holds unless this request queued for a slot (another instance
      // may have made it meanwhile): a cold thumbnail then costs one lookup, its claim and its
      // outcome. A claim that fails reads the row again.
      let known: DerivedRow | null | undefined = queued ? undefined : first;
      for (;;) {
        const row = known === undefined ? await findDerived(db, id) : known;
        known = undefined;
        if (row?.state === 'none') return null;
        if (row?.state === 'ready') {
          const found = await stored(id, key, tag);
          if (found) return found;
          continue;
        }
        const now = Date.now();
        if (row && (row.claimed_until ?? 0) >= now) {
          // Another instance is making it and its row settles within the claim, unless that
          // instance died, when the claim lapses only at its end: a request does not hang on.
          if (now - waitingSince > MAX_WAIT_MS) return 'busy';
          await sleep(100);
          continue;
        }
        if (await claimDerived(db, id, claim, now, now + claimMs)) break;
      }
      try {
        const started = Date.now();
        const bytes = await makeThumbnail(
          {
            source,
            size: file.size,
            open: () => storage.read(file.sha256),
            path: storage.localPath?.(file.sha256),
          },
          Number(id.variant.slice('thumb'.length)),
          limits,
        );
        await storage.putDerived(key, bytes);
        requestLog()?.info(
          { sha256: file.sha256, variant: id.variant, ms: Date.now() - started },
          'thumbnail made',
        );
        await settleDerived(db, id, claim, { state: 'ready', bytes: bytes.length }, Date.now());
        return { bytes, tag };
      } catch (err) {
        if (err instanceof NoThumbnail) {
          requestLog()?.info({ sha256: file.sha256, reason: err.message }, 'no thumbnail');
          await settleDerived(db, id, claim, { state: 'none', reason: err.message }, Date.now());
          return null;
        }
        await forgetDerived(db, id, { claim });
        throw err;
      }
    });
  }

  return {
    /**
     * The thumbnail of a file the caller may see, null when none can be made, or 'busy' when
     * another instance has been making it for a while (it may have died: its claim lapses).
     */
    thumbnail(file: FileRow, size: ThumbnailSize): Promise<Thumbnail | null | 'busy'> {
      const id: DerivedId = { sha256: file.sha256, size: file.size, variant: `thumb${size}` };
      const key = derivedKey(id.sha256, id.size, id.variant);
      let pending = making.get(key);
      if (!pending) {
        pending = make(file, id, key).finally(() => making.delete(key));
        making.set(key, pending);
      }
      return pending;
    },

    /**
     * `File.thumbnailUrl` of each file: null for types that get none and for blobs already known
     * to give none; others get the URL (a first request may still find it cannot be made).
     */
    async thumbnailUrls(files: readonly FileRow[]): Promise<(string | null)[]> {
      const candidates = files.filter((f) => maybeThumbnailSource(f.mime_type));
      const impossible = await findImpossible(
        db,
        [...new Set(candidates.map((f) => f.sha256))],
        'thumb256',
      );
      return files.map((f) =>
        maybeThumbnailSource(f.mime_type) && !impossible.has(`${f.sha256}-${f.size}`)
          ? thumbnailPath(f.id)
          : null,
      );
    },
  };
}

export type PreviewsService = ReturnType<typeof createPreviewsService>;

/** Runs at most `n` tasks at a time; the rest wait in order (and are told they waited). */
function semaphore(n: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: (queued: boolean) => Promise<T>): Promise<T> => {
    const queued = running >= n;
    if (queued) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await task(queued);
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}
