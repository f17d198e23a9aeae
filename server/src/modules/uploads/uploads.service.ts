import { randomBytes } from 'node:crypto';
import { createSHA256, type IHasher } from 'hash-wasm';
import type { Db, FileStatus, UploadSessionRow } from '../../db/database.js';
import { ConflictError, NotFoundError, PayloadTooLargeError } from '../../errors.js';
import type { PartialObject, StorageDriver } from '../../storage/storage.js';
import { HEAD_BYTES } from '../../streams/hash-meter.js';
import type { Viewer } from '../auth/viewer.js';
import type { TagName } from '../files/files.rules.js';
import type { FilesService } from '../files/files.service.js';
import {
  deleteUploadSession,
  findUploadSession,
  insertUploadSession,
  listExpiredUploads,
  lockUploadSession,
  markUploadComplete,
  saveUploadProgress,
  unlockUploadSession,
} from './uploads.repository.js';

/**
 * Bytes are stored and the progress saved every 8 MiB (and at the end of each request): a request
 * cut off loses at most what arrived since, and an upload is never more than one segment ahead of
 * what another instance could continue from.
 */
export const SEGMENT_BYTES = 8 * 1024 * 1024;

/** What an upload becomes once complete, checked and parsed when it was created. */
export interface UploadMeta {
  filename: string;
  name: string;
  tags: TagName[] | null;
  status: FileStatus | null;
}

export interface UploadProgressView {
  id: string;
  offset: number;
  length: number;
  expiresAt: number;
  /** The file the upload became, once complete. */
  fileId: number | null;
}

const view = (row: UploadSessionRow): UploadProgressView => ({
  id: row.id,
  offset: row.upload_offset,
  length: row.length,
  expiresAt: row.expires_at,
  fileId: row.file_id,
});

const busy = () =>
  new ConflictError('Another request is sending bytes to this upload; ask for its offset again.');

const offsetConflict = (offset: number) =>
  new ConflictError(`The upload is at offset ${offset}.`, {
    offset: `must be ${offset}, the bytes stored so far`,
  });

const partialOf = (row: UploadSessionRow): PartialObject => ({
  tempKey: row.temp_key,
  size: row.upload_offset,
  state: row.storage_state,
});

/** Runs `fn` holding the upload's lock (any instance); another holder means 409. */
async function withUploadLock<T>(
  db: Db,
  lockMs: number,
  id: string,
  fn: (token: string) => Promise<T>,
): Promise<T> {
  const token = randomBytes(16).toString('hex');
  const now = Date.now();
  if (!(await lockUploadSession(db, id, token, now + lockMs, now))) throw busy();
  try {
    return await fn(token);
  } finally {
    await unlockUploadSession(db, id, token).catch(() => undefined);
  }
}

/**
 * Removes uploads past their expiry (`now`), unfinished ones with their bytes; one a request is
 * still writing to is left for the next sweep. Returns the ids removed. The server runs it on a
 * timer, the doctor on request.
 */
export async function sweepExpiredUploads(
  deps: { db: Db; storage: StorageDriver; lockMs: number },
  now: number,
): Promise<string[]> {
  const swept: string[] = [];
  for (;;) {
    const ids = await listExpiredUploads(deps.db, now, 100);
    let progressed = false;
    for (const id of ids) {
      const done = await withUploadLock(deps.db, deps.lockMs, id, async () => {
        const row = await findUploadSession(deps.db, id);
        if (!row) return false;
        if (row.file_id === null) await deps.storage.discardPartial(partialOf(row));
        await deleteUploadSession(deps.db, id);
        return true;
      }).catch(() => false);
      if (done) {
        swept.push(id);
        progressed = true;
      }
    }
    if (ids.length < 100 || !progressed) return swept;
  }
}

/**
 * Resumable uploads (tus, see uploads.routes.ts). Every request starts from the row: the bytes
 * stored so far (a partial object of the storage driver) and the SHA-256 state over exactly those
 * bytes, so the hash is computed once over the whole upload, however many requests, restarts or
 * instances it takes, and nothing stored is ever read again. The finished bytes become a file
 * through the same commit as every other upload (files.commitReceived).
 */
export function createUploadsService(deps: {
  db: Db;
  storage: StorageDriver;
  files: FilesService;
  maxUploadBytes: number;
  expiryMs: number;
  /** How long a request holds an upload's lock without saving progress (a crash's lock lapses). */
  lockMs: number;
}) {
  const { db, storage, files } = deps;

  /** The viewer's own upload, unexpired; anyone else's is as missing as one that never was. */
  async function owned(viewer: Viewer, id: string): Promise<UploadSessionRow> {
    const row = /^[0-9a-f]{32}$/.test(id) ? await findUploadSession(db, id) : undefined;
    if (!row || row.user_id !== viewer.user.id || row.expires_at < Date.now()) {
      throw new NotFoundError('No such upload.');
    }
    return row;
  }

  async function hasherFor(row: UploadSessionRow): Promise<IHasher> {
    const hasher = await createSHA256();
    if (row.hash_state) hasher.load(Buffer.from(row.hash_state, 'base64'));
    else hasher.init();
    return hasher;
  }

  /**
   * Commits the finished bytes as a file. Whatever fails, nothing is left: no visible file, no
   * bytes, no row (the client starts again).
   */
  async function complete(
    viewer: Viewer,
    row: UploadSessionRow,
    partial: PartialObject,
    hasher: IHasher,
    head: Buffer,
  ): Promise<number> {
    const meta: UploadMeta = {
      filename: row.filename,
      name: row.name ?? row.filename,
      tags: row.tags ? (JSON.parse(row.tags) as TagName[]) : null,
      status: row.status,
    };
    try {
      await storage.completePartial(partial).catch((err: unknown) => {
        // Only after a crash in the middle of finishing (the bytes were already handed on, then
        // swept as a dead instance's temp object): what is left cannot become the file.
        throw Object.assign(
          new NotFoundError('The upload was lost while finishing; start again.'),
          {
            cause: err,
          },
        );
      });
      const file = await files.commitReceived(
        viewer,
        { tempKey: partial.tempKey, size: partial.size, sha256: hasher.digest('hex'), head },
        meta,
      );
      await markUploadComplete(db, row.id, file.id);
      return file.id;
    } catch (err) {
      await storage.discardPartial(partial).catch(() => undefined);
      await storage.discardTemp(partial.tempKey).catch(() => undefined);
      await deleteUploadSession(db, row.id).catch(() => undefined);
      throw err;
    }
  }

  const withLock = <T>(id: string, fn: (token: string) => Promise<T>) =>
    withUploadLock(db, deps.lockMs, id, fn);

  return {
    /** QUOTA_EXCEEDED when an upload of `length` bytes would pass the viewer's quota (tus creation). */
    quotaRefusal: (viewer: Viewer, length: number) => files.quotaRefusal(viewer, length),

    /** Starts an upload of `length` bytes (size and metadata already checked by the caller). */
    async create(viewer: Viewer, length: number, meta: UploadMeta): Promise<UploadProgressView> {
      if (length > deps.maxUploadBytes) throw new PayloadTooLargeError(deps.maxUploadBytes);
      const partial = await storage.createPartial();
      const now = Date.now();
      const row: UploadSessionRow = {
        id: randomBytes(16).toString('hex'),
        user_id: viewer.user.id,
        filename: meta.filename,
        name: meta.name,
        tags: meta.tags ? JSON.stringify(meta.tags) : null,
        status: meta.status,
        length,
        upload_offset: 0,
        temp_key: partial.tempKey,
        storage_state: partial.state,
        hash_state: null,
        head: '',
        file_id: null,
        created_at: now,
        expires_at: now + deps.expiryMs,
        lock_token: null,
        locked_until: null,
      };
      try {
        await insertUploadSession(db, row);
      } catch (err) {
        await storage.discardPartial(partial).catch(() => undefined);
        throw err;
      }
      if (length > 0) return view(row);
      // Nothing to send: complete at once (tus: an Upload-Length of 0 is a finished upload).
      return withLock(row.id, async () => {
        const fileId = await complete(viewer, row, partial, await hasherFor(row), Buffer.alloc(0));
        return { ...view(row), fileId };
      });
    },

    /** Where the viewer's upload stands (HEAD). */
    async progress(viewer: Viewer, id: string): Promise<UploadProgressView> {
      const row = await owned(viewer, id);
      // Every byte is in but the file is still being committed: "done" without its id would
      // leave the client nothing to show, so it asks again (tus clients retry a 409).
      const completing = row.locked_until !== null && row.locked_until >= Date.now();
      if (row.file_id === null && row.upload_offset === row.length && completing) throw busy();
      return view(row);
    },

    /**
     * Appends a request's body at `offset` (PATCH): it must be where the upload is, and the body
     * must not pass the declared length (refused before reading when Content-Length says so; a
     * body that turns out longer keeps nothing past the last segment saved before it). Bytes that
     * arrived before the client went away are kept, so it resumes from there.
     */
    async append(
      viewer: Viewer,
      id: string,
      offset: number,
      body: AsyncIterable<Buffer>,
      declared: number | null,
    ): Promise<UploadProgressView> {
      const found = await owned(viewer, id);
      if (found.file_id !== null) {
        // The response that completed it may have been lost: say so again.
        if (offset === found.length && !declared) return view(found);
        throw offsetConflict(found.length);
      }
      if (offset !== found.upload_offset) throw offsetConflict(found.upload_offset);
      if (declared !== null && offset + declared > found.length) {
        throw new PayloadTooLargeError(found.length, 'The body goes past the Upload-Length.');
      }
      return withLock(id, async (token) => {
        // Read again under the lock: another request may have moved it on in between.
        const row = await findUploadSession(db, id);
        if (!row || row.file_id !== null) throw new NotFoundError('No such upload.');
        if (row.upload_offset !== offset) throw offsetConflict(row.upload_offset);
        const hasher = await hasherFor(row);
        let head = Buffer.from(row.head, 'base64');
        let partial = partialOf(row);
        let pending: Buffer[] = [];
        let pendingLength = 0;

        const flush = async () => {
          if (!pendingLength) return;
          const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingLength);
          pending = [];
          pendingLength = 0;
          // The write runs on libuv's threads while this one hashes the same bytes; a failed
          // write fails the request, so a hash state ahead of the stored bytes is never saved.
          const writing = storage.appendPartial(partial, bytes);
          writing.catch(() => undefined);
          hasher.update(bytes);
          if (head.length < HEAD_BYTES) {
            head = Buffer.concat([head, bytes.subarray(0, HEAD_BYTES - head.length)]);
          }
          partial = await writing;
          const saved = await saveUploadProgress(db, id, token, {
            upload_offset: partial.size,
            storage_state: partial.state,
            hash_state: Buffer.from(hasher.save()).toString('base64'),
            head: head.toString('base64'),
            locked_until: Date.now() + deps.lockMs,
          });
          // The lock lapsed (this request stalled past lockMs) and someone else took over.
          if (!saved) throw busy();
        };

        let failure: unknown = null;
        try {
          for await (const chunk of body) {
            if (partial.size + pendingLength + chunk.length > row.length) {
              throw new PayloadTooLargeError(row.length, 'The body goes past the Upload-Length.');
            }
            pending.push(chunk);
            pendingLength += chunk.length;
            if (pendingLength >= SEGMENT_BYTES) await flush();
          }
        } catch (err) {
          failure = err;
        }
        // What arrived before a cut is kept; bytes past the length never are.
        if (!(failure instanceof PayloadTooLargeError)) {
          try {
            await flush();
          } catch (err) {
            failure ??= err;
          }
        }
        if (failure) throw failure;
        const now = { ...row, upload_offset: partial.size };
        if (partial.size < row.length) return view(now);
        const fileId = await complete(viewer, now, partial, hasher, head);
        return { ...view(now), fileId };
      });
    },

    /** Ends the viewer's upload and removes its bytes (DELETE); a finished file stays. */
    async terminate(viewer: Viewer, id: string): Promise<void> {
      await owned(viewer, id);
      await withLock(id, async () => {
        const row = await findUploadSession(db, id);
        if (!row) return;
        if (row.file_id === null) await storage.discardPartial(partialOf(row));
        await deleteUploadSession(db, id);
      });
    },

    /** Removes expired uploads with their bytes (sweepExpiredUploads); how many went. */
    sweepExpired: async (now = Date.now()) => (await sweepExpiredUploads(deps, now)).length,
  };
}

export type UploadsService = ReturnType<typeof createUploadsService>;
