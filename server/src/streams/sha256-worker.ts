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
  | { op: 'drop'; id: number };
type FromWorker = { id: number; buffer: ArrayBuffer } | { id: number; hex: string };

interface Pending {
  onReturn(buffer: ArrayBuffer): void;
  onDigest(hex: string): void;
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
