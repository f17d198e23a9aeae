import { randomBytes } from 'node:crypto';
import type { Db, Executor, FileStatus, UploadSessionRow } from '../../db/database.js';
import type { Dialect } from '../../db/connection.js';
import { lockRows } from '../../db/rows.js';
import {
  ConflictError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
} from '../../errors.js';
import type { PartialAppender, PartialObject, StorageDriver } from '../../storage/storage.js';
import { HEAD_BYTES } from '../../streams/hash-meter.js';
import { givePiece, takePiece } from '../../streams/piece-pool.js';
import { openUploadHash, type UploadHash } from '../../streams/upload-hash.js';
import type { Viewer } from '../auth/viewer.js';
import type { TagName } from '../files/files.rules.js';
import type { FilesService } from '../files/files.service.js';
import {
  deleteUploadSession,
  findUploadSession,
  insertUploadSession,
  listExpiredUploads,
  lockUploadForAppend,
  lockUploadSession,
  markUploadComplete,
  openUploadsOf,
  saveUploadProgress,
  unlockUploadSession,
} from './uploads.repository.js';

/**
 * Bytes are stored and the progress saved every 8 MiB (and at the end of each request): a request
 * cut off loses at most what arrived since, and an upload is never more than one segment ahead of
 * what another instance could continue from. (S3 needs parts of at least 5 MiB, and a database
 * update per 8 MiB costs nothing measurable.)
 */
export const SEGMENT_BYTES = 8 * 1024 * 1024;
/**
 * Unfinished uploads a user may hold at once. Each holds a row and a partial object until it
 * completes, is cancelled or expires; the web app runs three at a time, so only a client that
 * starts uploads and abandons them meets the limit (RATE_LIMITED until one ends or expires).
 */
export const MAX_OPEN_UPLOADS = 100;
/**
 * Bytes a request holds while they are written and hashed: past it the socket waits. Two
 * segments, so one is read while the one before is written and hashed.
 */
const MAX_BYTES_IN_FLIGHT = 2 * SEGMENT_BYTES;
/** Saves of progress queued behind a slow database before the socket waits for them. */
const MAX_SAVES_IN_FLIGHT = 2;
/** SHA-256 of no bytes (an upload of length 0). */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

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

/**
 * HEAD while every byte is in and the file is being committed: CONFLICT as 423 Locked, the answer
 * tus clients retry. Any other 4xx to a HEAD tells tus-js-client the upload is gone, and it starts
 * the same file again as a new upload (two files, and the new upload's bytes left unfinished when
 * it is cut in turn).
 */
class CommittingError extends ConflictError {
  readonly httpStatus = 423;
}

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
  dialect: Dialect;
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

  /**
   * Reads a request's body into the upload at its offset. The socket's chunks are copied into
   * pooled pieces (`partialPieceBytes` where the storage takes small appends: the local disk;
   * else 8 MiB segments; streams/piece-pool.ts says why a copy); each piece is written and
   * hashed at once, both off the event loop and side by side, while the next one arrives. Every 8 MiB and at the end of the body the
   * offset, the storage state and the hash state after exactly the bytes written are saved
   * together, in order. A body cut off keeps what arrived; one that passes the length keeps
   * what was saved before. The save at the end also lets go of the lock when the upload is still
   * unfinished (`released` then says so): one UPDATE, not two, per PATCH.
   */
  async function receive(
    row: UploadSessionRow,
    token: string,
    hash: UploadHash,
    body: AsyncIterable<Buffer>,
    sized: boolean,
  ): Promise<{ partial: PartialObject; head: Buffer; released: boolean }> {
    let partial = partialOf(row);
    const appender: PartialAppender = (await storage.openPartial?.(partial)) ?? {
      append: (at, chunks) =>
        storage.appendPartial(at, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)),
      close: async () => undefined,
    };
    // Only a body of a declared size (never past the length: checked before reading) is written
    // in pieces; one sent chunked may turn out too long, and then nothing of its segment is kept:
    // each of its pieces is a whole segment, saved as soon as written.
    const pieceBytes = sized
      ? Math.min(storage.partialPieceBytes ?? SEGMENT_BYTES, SEGMENT_BYTES)
      : SEGMENT_BYTES;
    let head = Buffer.from(row.head, 'base64');
    let received = row.upload_offset;
    /** The piece being filled from the socket's chunks, and how much of it is. */
    let piece: Buffer | null = null;
    let filled = 0;
    /** Bytes handed to `writes` and the hash since the last save. */
    let unsaved = 0;
    // Appends run one after another, each from where the one before left the partial object; a
    // failed one fails those after it. Saves likewise, each after the one before.
    let writes: Promise<PartialObject> = Promise.resolve(partial);
    let saves: Promise<void> = Promise.resolve();
    /** Pieces written and hashed, oldest first: the memory a request holds. */
    const pieces: { bytes: number; done: Promise<unknown> }[] = [];
    let piecesBytes = 0;
    const savesPending: Promise<void>[] = [];
    // Set by a failed save (a callback), read by the loop.
    let failed = null as { reason: unknown } | null;
    let released = false;
    const quiet = () => undefined;

    const dispatch = () => {
      if (!filled) return;
      const owned = piece!;
      const bytes = filled;
      const chunks = [owned.subarray(0, bytes)];
      piece = null;
      filled = 0;
      if (head.length < HEAD_BYTES) {
        head = Buffer.concat([head, chunks[0]!.subarray(0, HEAD_BYTES - head.length)]);
      }
      const hashed = hash.update(chunks);
      writes = writes.then((at) => appender.append(at, chunks));
      const written = writes;
      const done = Promise.all([hashed, written]);
      // Awaited below (or the failure shows in a save); until then not unhandled.
      done.catch(quiet);
      // Reused only once neither the hash nor the disk reads it, whichever of them failed.
      void Promise.allSettled([hashed, written]).then(() => givePiece(owned));
      pieces.push({ bytes, done });
      piecesBytes += bytes;
      unsaved += bytes;
    };

    const save = (last: boolean) => {
      unsaved = 0;
      const state = hash.save();
      const stored = writes;
      const headText = head.toString('base64');
      state.catch(quiet);
      const link = saves.then(async () => {
        const [appended, saved] = await Promise.all([stored, state]);
        // The last save of an unfinished upload lets go of it; a finished one stays locked while
        // it becomes a file.
        const release = last && appended.size < row.length;
        const kept = await saveUploadProgress(
          db,
          row.id,
          token,
          {
            upload_offset: appended.size,
            storage_state: appended.state,
            hash_state: Buffer.from(saved).toString('base64'),
            head: headText,
            locked_until: Date.now() + deps.lockMs,
          },
          release,
        );
        // The lock lapsed (this request stalled past lockMs) and someone else took over.
        if (!kept) throw busy();
        released = release;
        partial = appended;
      });
      link.catch((reason: unknown) => (failed ??= { reason }));
      saves = link;
      savesPending.push(link);
    };

    let failure: unknown = null;
    try {
      for await (const chunk of body) {
        if (failed) throw failed.reason;
        if (received + chunk.length > row.length) {
          throw new PayloadTooLargeError(row.length, 'The body goes past the Upload-Length.');
        }
        received += chunk.length;
        for (let at = 0; at < chunk.length;) {
          piece ??= takePiece(pieceBytes);
          // A piece ends at its size, or where a segment since the last save is complete.
          const room = Math.min(pieceBytes, SEGMENT_BYTES - unsaved) - filled;
          const copied = chunk.copy(piece, filled, at, Math.min(chunk.length, at + room));
          filled += copied;
          at += copied;
          if (copied < room) break;
          dispatch();
          if (unsaved >= SEGMENT_BYTES) save(false);
          // The socket waits while the disk or the hash is behind, or the database (saves).
          while (piecesBytes > MAX_BYTES_IN_FLIGHT) {
            const oldest = pieces.shift()!;
            piecesBytes -= oldest.bytes;
            await oldest.done;
          }
          while (savesPending.length > MAX_SAVES_IN_FLIGHT) await savesPending.shift();
        }
      }
    } catch (err) {
      failure = err;
    }
    // What arrived before a cut is kept; bytes past the length never are (the pieces of a body
    // that may pass it are saved as soon as written, and the rest dropped).
    if (!(failure instanceof PayloadTooLargeError)) dispatch();
    if (unsaved || !(failure instanceof PayloadTooLargeError)) save(true);
    try {
      await saves;
    } catch (err) {
      failure ??= err;
    }
    // Pieces left unsaved (a save failed) may still be writing or hashing from their chunks.
    await Promise.allSettled(pieces.map((p) => p.done));
    await writes.catch(quiet);
    await appender.close().catch(quiet);
    if (failure) throw failure;
    return { partial, head, released };
  }

  /**
   * Commits the finished bytes as a file. Whatever fails, nothing is left: no visible file, no
   * bytes, no row (the client starts again).
   */
  async function complete(
    viewer: Viewer,
    row: UploadSessionRow,
    partial: PartialObject,
    sha256: string,
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
        { tempKey: partial.tempKey, size: partial.size, sha256, head },
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

  // Requests holding an upload's lock, so a closing server lets them save and unlock first.
  const running = new Set<Promise<unknown>>();
  const track = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = fn();
    const tracked = run.then(
      () => undefined,
      () => undefined,
    );
    running.add(tracked);
    void tracked.then(() => running.delete(tracked));
    return run;
  };
  const withLock = <T>(id: string, fn: (token: string) => Promise<T>): Promise<T> =>
    track(() => withUploadLock(db, deps.lockMs, id, fn));

  /**
   * Whether the viewer may start one more upload of `length` bytes, in the transaction that would
   * record it: at most MAX_OPEN_UPLOADS unfinished at once, and the quota counts the bytes every
   * unfinished one may still store (they are on disk before they count as used). On PostgreSQL
   * the user's row is locked first, so that two creations at once cannot both take the last room.
   */
  async function admit(trx: Executor, viewer: Viewer, length: number, now: number) {
    if (deps.dialect === 'postgres') await lockRows(trx, 'users', [viewer.user.id]);
    const open = await openUploadsOf(trx, viewer.user.id, now);
    if (open.count >= MAX_OPEN_UPLOADS) {
      const wait = Math.max(1, Math.ceil((open.firstExpiry - now) / 1000));
      throw new RateLimitedError(
        wait,
        `You have ${open.count} unfinished uploads: finish or cancel some before starting more ` +
          `(the oldest expires in ${wait} seconds).`,
      );
    }
    const refusal = await files.quotaRefusal(viewer, length, open.bytes, trx);
    if (refusal) throw refusal;
  }

  const service = {
    /**
     * Starts an upload of `length` bytes (metadata already checked by the caller); refused when
     * too large, past the quota or past MAX_OPEN_UPLOADS, before any byte is stored.
     */
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
        await db.transaction().execute(async (trx) => {
          await admit(trx, viewer, length, now);
          await insertUploadSession(trx, row);
        });
      } catch (err) {
        await storage.discardPartial(partial).catch(() => undefined);
        throw err;
      }
      if (length > 0) return view(row);
      // Nothing to send: complete at once (tus: an Upload-Length of 0 is a finished upload).
      return withLock(row.id, async () => {
        const fileId = await complete(viewer, row, partial, EMPTY_SHA256, Buffer.alloc(0));
        return { ...view(row), fileId };
      });
    },

    /** Where the viewer's upload stands (HEAD). */
    async progress(viewer: Viewer, id: string): Promise<UploadProgressView> {
      const row = await owned(viewer, id);
      // Every byte is in but the file is still being committed: "done" without its id would
      // leave the client nothing to show, so it asks again (CommittingError says how).
      if (row.file_id !== null || row.upload_offset < row.length) return view(row);
      const committing = () =>
        new CommittingError('The upload is being committed as a file; ask again shortly.');
      if (row.locked_until !== null && row.locked_until >= Date.now()) throw committing();
      // Every byte was saved but no file made, and nobody holds the upload: the process stopped
      // in between (a kill, a crash). A tus client takes offset = length for done and sends
      // nothing more, so this HEAD finishes it, as the empty PATCH that would have followed.
      try {
        return await service.append(viewer, id, row.length, emptyBody(), 0);
      } catch (err) {
        // Another request took the upload first and is finishing it.
        if (err instanceof ConflictError) throw committing();
        throw err;
      }
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
      // The usual PATCH takes its lock and reads the row in one query; only a refused one reads
      // the row again to say why.
      const token = randomBytes(16).toString('hex');
      const now = Date.now();
      const row = /^[0-9a-f]{32}$/.test(id)
        ? await lockUploadForAppend(db, {
            id,
            userId: viewer.user.id,
            offset,
            end: offset + (declared ?? 0),
            token,
            until: now + deps.lockMs,
            now,
          })
        : undefined;
      if (!row) {
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
        throw busy();
      }
      return track(async () => {
        let released = false;
        let hash: UploadHash | null = null;
        try {
          hash = openUploadHash(row.hash_state ? Buffer.from(row.hash_state, 'base64') : null);
          const received = await receive(row, token, hash, body, declared !== null);
          released = received.released;
          const { partial, head } = received;
          const after = { ...row, upload_offset: partial.size };
          if (partial.size < row.length) return view(after);
          const fileId = await complete(viewer, after, partial, await hash.digest(), head);
          return { ...view(after), fileId };
        } finally {
          hash?.close();
          if (!released) await unlockUploadSession(db, id, token).catch(() => undefined);
        }
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

    /** Resolves once no request holds an upload's lock any more (the server is closing). */
    async settle(): Promise<void> {
      while (running.size) await Promise.all(running);
    },

    /** Removes expired uploads with their bytes (sweepExpiredUploads); how many went. */
    sweepExpired: async (now = Date.now()) => (await sweepExpiredUploads(deps, now)).length,
  };
  return service;
}

/** A request body of no bytes. */
async function* emptyBody(): AsyncIterable<Buffer> {}

export type UploadsService = ReturnType<typeof createUploadsService>;
