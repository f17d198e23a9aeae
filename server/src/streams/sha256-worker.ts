import { createHash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

// SHA-256 of an upload on a worker thread. Without the CPU's SHA extensions (many Intel servers
// before Ice Lake, this project's own machines) OpenSSL hashes at ~270 MiB/s per 2 GHz core, and
// on the main thread that alone caps an upload at the hash's speed while parsing, writing and
// every other request wait behind it. On a worker the hash runs beside the rest.
//
// Bytes go over in 1 MiB batches whose buffers travel to the worker and back (transferred, never
// cloned), at most IN_FLIGHT batches per hash, so a hash that falls behind slows its upload
// instead of queueing the upload in memory. A body shorter than one batch is hashed inline: a
// round trip costs more than hashing it.

const BATCH = 1024 * 1024;
const IN_FLIGHT = 4;

type ToWorker =
  | { op: 'update'; id: number; buffer: ArrayBuffer; length: number }
  | { op: 'digest'; id: number }
  | { op: 'drop'; id: number }
  | { op: 'open'; id: number; state: Uint8Array | null; wasm: boolean }
  | { op: 'feed'; id: number; buffer: SharedArrayBuffer; start: number; end: number }
  | { op: 'save'; id: number }
  | { op: 'final'; id: number };
type FromWorker =
  | { id: number; buffer: ArrayBuffer }
  | { id: number; hex: string }
  | { id: number; state: Uint8Array }
  | { id: number; error: string };

interface Pending {
  onReturn(buffer: ArrayBuffer): void;
  onDigest(hex: string): void;
  onState?(state: Uint8Array): void;
  onFail(err: Error): void;
}

/** One worker thread and the hashes it holds; replaced when it dies. */
class HashThread {
  readonly jobs = new Map<number, Pending>();
  readonly #worker: Worker;
  dead = false;

  constructor() {
    // A plain CommonJS file: it loads the same way from TypeScript through tsx, under Vitest and
    // from the build (scripts/build.js copies it beside the bundle).
    this.#worker = new Worker(new URL('./sha256-worker.cjs', import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 16 },
    });
    this.#worker.on('message', (m: FromWorker) => {
      const job = this.jobs.get(m.id);
      if (!job) return;
      if ('hex' in m) job.onDigest(m.hex);
      else if ('state' in m) job.onState?.(m.state);
      else if ('error' in m) job.onFail(new Error(`hash worker: ${m.error}`));
      else job.onReturn(m.buffer);
    });
    const fail = (err: Error) => {
      this.dead = true;
      for (const job of this.jobs.values()) job.onFail(err);
      this.jobs.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
    // An idle hash thread must not keep the process (or a test run) alive, a busy one must. After
    // the listeners: adding a 'message' listener refs the worker again.
    this.#worker.unref();
  }

  add(id: number, job: Pending): void {
    if (this.jobs.size === 0) this.#worker.ref();
    this.jobs.set(id, job);
  }

  remove(id: number): void {
    if (this.jobs.delete(id) && this.jobs.size === 0) this.#worker.unref();
  }

  post(message: ToWorker, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(message, transfer);
  }
}

const threads: HashThread[] = [];
// One core stays for the event loop; more threads than cores would only take turns.
const maxThreads = Math.max(1, Math.min(4, os.availableParallelism() - 1));
let nextId = 1;

function leastBusyThread(): HashThread {
  for (let i = threads.length - 1; i >= 0; i--) if (threads[i]!.dead) threads.splice(i, 1);
  const idle = threads.find((t) => t.jobs.size === 0);
  if (idle) return idle;
  if (threads.length < maxThreads) {
    const thread = new HashThread();
    threads.push(thread);
    return thread;
  }
  return threads.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
}

/**
 * Boots the first hash thread now rather than on the first large upload: its ~12 MiB are a fixed
 * cost of the process, and no upload waits for a thread to start.
 */
export function startHashThread(): void {
  if (threads.every((t) => t.dead)) threads.push(new HashThread());
}

/**
 * An incremental SHA-256 computed off the main thread. Feed it with `update` (waiting whenever it
 * returns a promise), then call `digest` once; `abort` releases it at any point.
 */
export class Sha256 {
  #thread: HashThread | null = null;
  #id = 0;
  #batch: Uint8Array | null = new Uint8Array(BATCH);
  #filled = 0;
  #spare: ArrayBuffer[] = [];
  #inFlight = 0;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;
  #digested: { resolve(hex: string): void; reject(err: Error): void } | null = null;
  #done = false;

  /**
   * Takes a copy of `chunk`; the caller may reuse it at once. Returns a promise when batches are
   * already queued for the worker: wait for it before the next update.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#failure) return Promise.reject(this.#failure);
    for (let offset = 0; offset < chunk.length;) {
      this.#batch ??= new Uint8Array(this.#spare.pop() ?? new ArrayBuffer(BATCH));
      const n = Math.min(chunk.length - offset, BATCH - this.#filled);
      this.#batch.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === BATCH) this.#send();
    }
    if (this.#inFlight < IN_FLIGHT) return undefined;
    return new Promise<void>((resolve, reject) => {
      this.#wake = () => (this.#failure ? reject(this.#failure) : resolve());
    });
  }

  /** The hex digest of everything passed to `update`. */
  async digest(): Promise<string> {
    this.#done = true;
    if (!this.#thread) {
      const hex = createHash('sha256').update(this.#batch!.subarray(0, this.#filled)).digest('hex');
      this.#batch = null;
      return hex;
    }
    if (this.#filled > 0) this.#send();
    const thread = this.#thread;
    const hex = await new Promise<string>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#digested = { resolve, reject };
      thread.post({ op: 'digest', id: this.#id });
    });
    thread.remove(this.#id);
    this.#thread = null;
    return hex;
  }

  /** Forgets the hash (an upload that failed or was cut off); idempotent, a no-op after `digest`. */
  abort(): void {
    this.#done = true;
    this.#batch = null;
    this.#spare = [];
    if (!this.#thread) return;
    this.#thread.remove(this.#id);
    if (!this.#thread.dead) this.#thread.post({ op: 'drop', id: this.#id });
  }

  #send(): void {
    if (!this.#thread) this.#attach();
    const buffer = this.#batch!.buffer as ArrayBuffer;
    this.#thread!.post({ op: 'update', id: this.#id, buffer, length: this.#filled }, [buffer]);
    this.#batch = null;
    this.#filled = 0;
    this.#inFlight++;
  }

  #attach(): void {
    const thread = leastBusyThread();
    this.#thread = thread;
    this.#id = nextId++;
    thread.add(this.#id, {
      onReturn: (buffer) => {
        this.#inFlight--;
        if (!this.#done) this.#spare.push(buffer);
        if (this.#inFlight < IN_FLIGHT) this.#callWake();
      },
      onDigest: (hex) => this.#digested?.resolve(hex),
      onFail: (err) => {
        this.#failure = err;
        this.#callWake();
        this.#digested?.reject(err);
      },
    });
  }

  #callWake(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/**
 * A SHA-256 whose state can be saved after any byte and loaded again, in another request, process
 * or instance, computed on a hash thread beside the request's own work: OpenSSL's through the
 * small addon in server/native (Node's crypto cannot save a state), or hash-wasm's where that was
 * not built (~6x the CPU per byte; a state of either kind continues in its own kind). It reads the bytes straight from shared segment buffers (`segmentBuffer`),
 * so nothing is copied or transferred on the way: a range fed to it must stay unchanged until a
 * later `save` or `digest` has answered. Answers come in the order asked, and a saved state
 * covers exactly the ranges fed before the `save`.
 */
export class ResumableSha256 {
  readonly #thread: HashThread;
  readonly #id = nextId++;
  readonly #waiting: { resolve(value: Uint8Array | string): void; reject(err: Error): void }[] = [];
  #failure: Error | null = null;
  #closed = false;

  /**
   * Continues from `state` (what `save` returned), or starts afresh; `wasm` starts with hash-wasm
   * even where the native hash is built (tests of the fallback).
   */
  constructor(state: Uint8Array | null, options: { wasm?: boolean } = {}) {
    this.#thread = leastBusyThread();
    const answer = (value: Uint8Array | string) => this.#waiting.shift()?.resolve(value);
    this.#thread.add(this.#id, {
      onReturn: () => undefined,
      onDigest: answer,
      onState: answer,
      onFail: (err) => {
        this.#failure ??= err;
        for (const waiter of this.#waiting.splice(0)) waiter.reject(err);
      },
    });
    this.#thread.post({ op: 'open', id: this.#id, state, wasm: options.wasm ?? false });
  }

  /** Hashes `bytes` (a view on a `segmentBuffer`), after everything fed before. */
  feed(bytes: Buffer): void {
    if (this.#failure || this.#closed || !bytes.length) return;
    const buffer = bytes.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError('feed a segmentBuffer');
    const start = bytes.byteOffset;
    this.#thread.post({ op: 'feed', id: this.#id, buffer, start, end: start + bytes.length });
  }

  /** The state after every byte fed so far, to store and `load` later. */
  save(): Promise<Uint8Array> {
    return this.#ask('save') as Promise<Uint8Array>;
  }

  /** The hex digest of every byte fed (continuing the loaded state); ends the hash. */
  async digest(): Promise<string> {
    const hex = (await this.#ask('final')) as string;
    this.close();
    return hex;
  }

  /** Releases the hash (idempotent); answers still awaited fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#thread.remove(this.#id);
    if (!this.#thread.dead) this.#thread.post({ op: 'drop', id: this.#id });
    const closed = new Error('the hash was closed');
    for (const waiter of this.#waiting.splice(0)) waiter.reject(closed);
  }

  #ask(op: 'save' | 'final'): Promise<Uint8Array | string> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error('the hash was closed'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#thread.post({ op, id: this.#id });
    });
  }
}

/** Free segment buffers kept between requests, so a stream of PATCHes allocates none. */
const spareSegments = new Map<number, Buffer[]>();
const MAX_SPARE_SEGMENTS = 4;

/**
 * A buffer of `size` bytes in shared memory, which `ResumableSha256.feed` reads on the hash thread
 * without a copy; give it back with `releaseSegmentBuffer` once nothing reads it any more.
 */
export function segmentBuffer(size: number): Buffer {
  return spareSegments.get(size)?.pop() ?? Buffer.from(new SharedArrayBuffer(size));
}

export function releaseSegmentBuffer(buffer: Buffer): void {
  const spare = spareSegments.get(buffer.length) ?? [];
  spareSegments.set(buffer.length, spare);
  if (spare.length < MAX_SPARE_SEGMENTS) spare.push(buffer);
}
