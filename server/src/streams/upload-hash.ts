import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { releaseSegmentBuffer, ResumableSha256, segmentBuffer } from './sha256-worker.js';

// The SHA-256 of a resumable upload, fed the socket's own chunks. With server/native built it
// hashes on libuv's thread pool straight from those chunks (`updateAsync`): no copy into shared
// memory, no hash thread, no message per batch. Measured on a tus upload in one PATCH, the copy
// and the hash thread's messages cost the request's thread more than the hash itself costs its
// own. Without the addon, or for a state hash-wasm saved, the bytes are copied into a shared
// segment for the hash thread (ResumableSha256), as before.

const MiB = 1024 * 1024;

interface NativeSha256 {
  init(): Buffer;
  check(state: Buffer): boolean;
  digest(state: Buffer): Buffer;
  updateAsync(state: Buffer, bytes: readonly Uint8Array[]): Promise<void>;
}

/** server/native's addon, found above this file (src/streams/ or a bundle in dist/), or null. */
const native = ((): NativeSha256 | null => {
  const require = createRequire(import.meta.url);
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'native', 'build', 'Release', 'sha256_state.node');
    if (existsSync(file)) {
      try {
        const addon = require(file) as Partial<NativeSha256>;
        // A build from before updateAsync existed: the hash thread still has what it needs.
        return typeof addon.updateAsync === 'function' ? (addon as NativeSha256) : null;
      } catch {
        return null;
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
})();

/** A state the native hasher saved starts with these bytes (as on the hash thread). */
const NATIVE_TAG = Buffer.from('OSSL');

const isNativeState = (state: Uint8Array) =>
  state.length > NATIVE_TAG.length &&
  NATIVE_TAG.equals(Buffer.from(state.buffer, state.byteOffset, NATIVE_TAG.length));

/**
 * A SHA-256 whose state can be saved after any update and continued from in another request,
 * process or instance. Every call runs after the ones before it.
 */
export interface UploadHash {
  /** Hashes `chunks`, in order; resolves once they are hashed and no longer read. */
  update(chunks: readonly Buffer[]): Promise<void>;
  /** The state after exactly the updates called before, to store and continue from later. */
  save(): Promise<Uint8Array>;
  /** The hex digest of every byte (continuing the loaded state); ends the hash. */
  digest(): Promise<string>;
  /** Releases the hash (idempotent). */
  close(): void;
}

/** Whether this process hashes uploads on the thread pool (server/native built). */
export const nativeUploadHash = native !== null;

/**
 * Continues `state` (what `save` returned), or starts afresh; `wasm` starts with hash-wasm on the
 * hash thread even where the native hash is built (tests of the fallback).
 */
export function openUploadHash(
  state: Uint8Array | null,
  options: { wasm?: boolean } = {},
): UploadHash {
  if (native && !options.wasm && (state === null || isNativeState(state))) {
    return new NativeUploadHash(native, state);
  }
  return new ThreadUploadHash(state, options);
}

class NativeUploadHash implements UploadHash {
  readonly #addon: NativeSha256;
  readonly #ctx: Buffer;
  /** The last operation: each one starts once it settled, so the state is never shared. */
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(addon: NativeSha256, state: Uint8Array | null) {
    this.#addon = addon;
    if (state) {
      this.#ctx = Buffer.from(state.subarray(NATIVE_TAG.length));
      if (!addon.check(this.#ctx)) throw new Error('not a SHA-256 state of this build');
    } else this.#ctx = addon.init();
  }

  #then<T>(step: () => T | Promise<T>): Promise<T> {
    const next = this.#tail.then(() => {
      if (this.#closed) throw new Error('the hash was closed');
      return step();
    });
    // A failed update fails every operation after it: the state is no longer that of the bytes.
    this.#tail = next;
    return next;
  }

  update(chunks: readonly Buffer[]): Promise<void> {
    return this.#then(() => this.#addon.updateAsync(this.#ctx, chunks));
  }

  save(): Promise<Uint8Array> {
    return this.#then(() => Buffer.concat([NATIVE_TAG, this.#ctx]));
  }

  async digest(): Promise<string> {
    const hex = await this.#then(() => this.#addon.digest(this.#ctx).toString('hex'));
    this.close();
    return hex;
  }

  close(): void {
    this.#closed = true;
  }
}

/** The hash thread's hash: each update copied into a shared segment it reads without a copy. */
class ThreadUploadHash implements UploadHash {
  readonly #hash: ResumableSha256;

  constructor(state: Uint8Array | null, options: { wasm?: boolean }) {
    this.#hash = new ResumableSha256(state, options);
  }

  async update(chunks: readonly Buffer[]): Promise<void> {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    if (!length) return;
    // Whole MiB sizes, so the pool of spare segments keeps to a few sizes.
    const segment = segmentBuffer(Math.ceil(length / MiB) * MiB);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(segment, at);
    this.#hash.feed(segment.subarray(0, length));
    // Its answer comes after the hash thread read the segment: then it may be reused.
    try {
      await this.#hash.save();
    } finally {
      releaseSegmentBuffer(segment);
    }
  }

  save(): Promise<Uint8Array> {
    return this.#hash.save();
  }

  digest(): Promise<string> {
    return this.#hash.digest();
  }

  close(): void {
    this.#hash.close();
  }
}
