import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { PayloadTooLargeError } from '../errors.js';

/** How many leading bytes `putTemp` keeps for content sniffing. */
export const HEAD_BYTES = 4096;

/**
 * Passes bytes through unchanged while hashing and counting them, so the digest costs no second
 * read. It fails with `PayloadTooLargeError` as soon as more than `maxBytes` arrived: the chunk
 * that crosses the limit is not passed on.
 */
export class HashMeter extends Transform {
  #hash = createHash('sha256');
  #head: Buffer[] = [];
  #headLength = 0;
  #size = 0;

  constructor(
    readonly maxBytes: number,
    // Node 20's 16 KiB default makes the transform a per-chunk bottleneck between a fast source
    // and a batched sink; a larger buffer costs memory only while the sink is slower.
    highWaterMark = 1024 * 1024,
  ) {
    super({ readableHighWaterMark: highWaterMark, writableHighWaterMark: highWaterMark });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#size += chunk.length;
    if (this.#size > this.maxBytes) {
      callback(new PayloadTooLargeError(this.maxBytes));
      return;
    }
    this.#hash.update(chunk);
    if (this.#headLength < HEAD_BYTES) {
      // Copied, so the head does not pin a whole (possibly pooled) chunk in memory.
      const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - this.#headLength));
      this.#head.push(part);
      this.#headLength += part.length;
    }
    callback(null, chunk);
  }

  /** Size, hex digest and head of everything that passed; call once, after the stream ended. */
  result(): { size: number; sha256: string; head: Buffer } {
    return {
      size: this.#size,
      sha256: this.#hash.digest('hex'),
      head: Buffer.concat(this.#head, this.#headLength),
    };
  }
}
