import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

// Node's file streams allocate a fresh buffer for every read. Each one counts as V8 "external
// memory", and a steady stream of them makes V8 collect the whole heap again and again for
// "external memory pressure": serving 32 downloads at once, the transfer bench saw the server's
// GC threads burn twice the CPU of the bytes themselves, and throughput fall to 0.6× of a plain
// Node static server whose small heap makes the same collections cheap. A download reuses a few
// buffers instead, handed back by the consumer once the socket has taken their bytes.

/** A byte stream that can take back the chunks it emitted for reuse. */
export interface RecyclingReadable extends Readable {
  /**
   * Gives a chunk this stream emitted back for a later read. Call it only once nothing refers to
   * the chunk's bytes any more (e.g. from `res.write`'s callback); other chunks are ignored.
   */
  recycle(chunk: Buffer): void;
}

export function isRecycling(stream: Readable): stream is RecyclingReadable {
  return typeof (stream as Partial<RecyclingReadable>).recycle === 'function';
}

/** At most this many idle buffers are kept per stream; the rest are left to the GC. */
const SPARE_BUFFERS = 4;

/**
 * Reads `[start, end]` (inclusive) of an open file, or from `start` to its end when `end` is
 * omitted (no stat needed), then closes it.
 */
export class RecyclingFileStream extends Readable implements RecyclingReadable {
  readonly #handle: FileHandle;
  readonly #chunkSize: number;
  readonly #end: number;
  #position: number;
  readonly #issued = new WeakSet<ArrayBufferLike>();
  #spare: Buffer[] = [];

  constructor(handle: FileHandle, range: { start: number; end?: number }, chunkSize: number) {
    super({ highWaterMark: chunkSize });
    this.#handle = handle;
    this.#chunkSize = chunkSize;
    this.#position = range.start;
    this.#end = range.end ?? Infinity;
  }

  override _read(): void {
    const length = Math.min(this.#chunkSize, this.#end - this.#position + 1);
    if (length <= 0) {
      this.push(null);
      return;
    }
    const buffer = this.#spare.pop() ?? this.#allocate();
    this.#handle.read(buffer, 0, length, this.#position).then(
      ({ bytesRead }) => {
        if (this.destroyed) return;
        if (bytesRead === 0) {
          // Blobs never change, so a file shorter than the range asked was truncated under us.
          if (this.#end === Infinity) this.push(null);
          else this.destroy(new Error('The stored file ended early.'));
          return;
        }
        this.#position += bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      },
      (err: Error) => this.destroy(err),
    );
  }

  recycle(chunk: Buffer): void {
    if (this.destroyed || this.#spare.length >= SPARE_BUFFERS) return;
    if (!this.#issued.has(chunk.buffer) || chunk.byteOffset !== 0) return;
    this.#spare.push(Buffer.from(chunk.buffer, 0, this.#chunkSize));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#spare = [];
    this.#handle.close().then(
      () => callback(err),
      (closeErr: Error) => callback(err ?? closeErr),
    );
  }

  #allocate(): Buffer {
    const buffer = Buffer.allocUnsafeSlow(this.#chunkSize);
    this.#issued.add(buffer.buffer);
    return buffer;
  }
}
