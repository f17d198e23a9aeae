import type { Readable } from 'node:stream';

/** What `StorageDriver.putTemp` learned while streaming the bytes in. */
export interface TempObject {
  /** Opaque key of the temp object; pass it to `commit` or `discardTemp`. */
  tempKey: string;
  size: number;
  /** Lower-case hex SHA-256 of the bytes, computed while they streamed. */
  sha256: string;
  /** The first bytes of the object (up to 4 KiB), for content sniffing without a second read. */
  head: Buffer;
}

/** A temp object as `StorageDriver.listTemp` finds it. */
export interface TempListing {
  tempKey: string;
  /** Epoch ms of the object's last write (whole seconds on object stores). */
  modifiedAt: number;
}

/** A committed object as `StorageDriver.listBlobs` finds it. */
export interface BlobListing {
  sha256: string;
  size: number;
}

/**
 * An unfinished resumable upload's bytes as the driver left them after its last append. The
 * caller keeps it (with the upload's offset) and hands it back for the next append: a restart, or
 * another instance on the same store, continues from it without reading a stored byte.
 */
export interface PartialObject {
  /** Becomes the temp key of the finished object (`completePartial`, then `commit`). */
  tempKey: string;
  /** Bytes appended so far. */
  size: number;
  /** The driver's own bookkeeping, as JSON text (S3: multipart upload id, parts, unsent tail). */
  state: string;
}

/** Appends to one partial object (`StorageDriver.openPartial`); close it when done. */
export interface PartialAppender {
  /** As `appendPartial`, of the chunks' bytes in order. */
  append(partial: PartialObject, chunks: readonly Buffer[]): Promise<PartialObject>;
  close(): Promise<void>;
}

/** Options every driver's constructor takes besides where it stores. */
export interface DriverOptions {
  /**
   * The running instance (`newInstanceId`): its id becomes part of every temp key this driver
   * creates, so the temp objects a crashed process left can be told apart from those of a live
   * one (`tempKeyInstance`). Tools that never upload leave it out.
   */
  instance?: string;
}

export interface PutOptions {
  /** Stop reading and fail with `PayloadTooLargeError` once more than this many bytes arrived. */
  maxBytes: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * The blob store contract. Blobs are content addressed: the key of a committed object is the
 * SHA-256 of its bytes (64 lower-case hex characters); every driver rejects any other key, so no
 * caller can name a path or object outside the store, whatever a file's name says.
 *
 * Writes go in two steps so nothing half-written is ever visible under a real key: `putTemp`
 * streams into a temp object, `commit` makes it visible. Temp objects that a crash left behind
 * are found with `listTemp` (their key names the instance that wrote them) and removed with
 * `discardTemp` by the stale sweep (modules/maintenance/stale.ts); `listBlobs` lets the doctor
 * compare the store with the database.
 *
 * Every driver must pass `storage.contract.ts`.
 */
export interface StorageDriver {
  /**
   * Streams `body` into a new temp object while hashing it. Honors backpressure (never buffers the
   * whole body). If `body` errors, is destroyed, or exceeds `maxBytes`, the temp object is removed
   * before the returned promise rejects (with the stream's error, or `PayloadTooLargeError`).
   */
  putTemp(body: Readable, options: PutOptions): Promise<TempObject>;

  /**
   * Makes a temp object visible under `sha256`. If an object with that key already exists the
   * temp object is simply removed (same key means same bytes). Resolves once the object is durable
   * under its key. Rejects if `tempKey` is unknown.
   */
  commit(tempKey: string, sha256: string): Promise<void>;

  /**
   * Starts an empty partial object. Partial objects are never listed by `listTemp` (a resumable
   * upload outlives the instance that started it); whoever keeps them removes them
   * (`discardPartial`).
   */
  createPartial(): Promise<PartialObject>;

  /**
   * The smallest append that costs no more per byte than a larger one and keeps no bytes in the
   * driver's state (the local disk: any size; S3: a part). Resumable uploads write a body in
   * pieces of this size as it arrives; absent, in whole 8 MiB segments.
   */
  readonly partialPieceBytes?: number;

  /**
   * Appends `bytes` at `partial.size` and resolves with the partial object to keep. All or
   * nothing: when it rejects, `partial` as given is still valid and may be appended to again, and
   * bytes a failed append may have written past it are overwritten or dropped later.
   */
  appendPartial(partial: PartialObject, bytes: Buffer): Promise<PartialObject>;

  /**
   * Optional: holds the partial object open for one request's run of appends, each from the
   * chunks as they came (the local disk: one file opened once, written with `pwritev`, against
   * an open, a write and a close per append). Absent, the caller appends with `appendPartial`.
   */
  openPartial?(partial: PartialObject): Promise<PartialAppender>;

  /**
   * Turns the partial object into a temp object under `partial.tempKey` holding exactly its
   * `size` bytes, for `commit` or `discardTemp`.
   */
  completePartial(partial: PartialObject): Promise<void>;

  /** Removes a partial object and whatever it holds. Does not throw when it is already gone. */
  discardPartial(partial: PartialObject): Promise<void>;

  /** Removes a temp object. Does not throw when it is already gone. */
  discardTemp(tempKey: string): Promise<void>;

  /**
   * Opens a committed object for reading, whole or a byte range (inclusive bounds, already
   * validated against the size by the caller). Rejects with `NotFoundError` when missing.
   */
  read(sha256: string, range?: ByteRange): Promise<Readable>;

  /**
   * Where a committed object lies on this machine's disk, for a reader that opens it itself
   * (libvips decoding a thumbnail's source in its own thread, with no stream through the event
   * loop); absent for stores that have no such path (S3). The object may be gone by the time it
   * is opened: the reader then treats that as `read` rejecting.
   */
  localPath?(sha256: string): string;

  /** Whether a committed object exists. */
  exists(sha256: string): Promise<boolean>;

  /** Removes a committed object. Does not throw when it is missing. */
  delete(sha256: string): Promise<void>;

  /**
   * Stores a derived object (a thumbnail) under `key` (`derivedKey`), whole: readers see either
   * nothing or all of `bytes`, never a part. Replaces an object already there. Derived objects
   * are never listed by `listBlobs` or `listTemp`.
   */
  putDerived(key: string, bytes: Buffer): Promise<void>;

  /** A derived object's bytes, or null when there is none under `key`. */
  readDerived(key: string): Promise<Buffer | null>;

  /**
   * Removes every derived object of the blob `sha256` (whatever its size and variant). Does not
   * throw when there are none.
   */
  deleteDerived(sha256: string): Promise<void>;

  /**
   * Every temp object whose key has a temp key's shape (others are ignored, never yielded), in no
   * particular order, page by page: a store of any size is listed in constant memory. Objects
   * created or removed while the listing runs may or may not appear.
   */
  listTemp(): AsyncIterable<TempListing>;

  /**
   * Every committed object whose key is a SHA-256 (others are ignored), with its size, in no
   * particular order, page by page, like `listTemp`.
   */
  listBlobs(): AsyncIterable<BlobListing>;
}
