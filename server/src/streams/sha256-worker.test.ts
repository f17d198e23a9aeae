import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../errors.js';
import { HashMeter } from './hash-meter.js';
import { releaseSegmentBuffer, ResumableSha256, segmentBuffer, Sha256 } from './sha256-worker.js';

const MiB = 1024 * 1024;
/** Whether server/native was built here (npm install builds it; the tests then must use it). */
const nativeBuilt = existsSync(
  new URL('../../native/build/Release/sha256_state.node', import.meta.url),
);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function hashInChunks(bytes: Buffer, chunkSize: number): Promise<string> {
  const hash = new Sha256();
  for (let i = 0; i < bytes.length; i += chunkSize) {
    await hash.update(bytes.subarray(i, i + chunkSize));
  }
  return hash.digest();
}

const data = randomBytes(5 * MiB + 17);

describe('Sha256 on a worker thread', () => {
  it.each([0, 1, MiB - 1, MiB, MiB + 1, 5 * MiB + 17])(
    'matches node:crypto for %i bytes in any chunking',
    async (size) => {
      const bytes = data.subarray(0, size);
      for (const chunk of [1000, 64 * 1024, 3 * MiB]) {
        expect(await hashInChunks(bytes, chunk)).toBe(sha256(bytes));
      }
    },
  );

  it('keeps concurrent hashes apart', async () => {
    const parts = [randomBytes(3 * MiB), randomBytes(2 * MiB + 5), randomBytes(4 * MiB)];
    const hashes = parts.map(() => new Sha256());
    // Interleaved 256 KiB at a time, so the worker holds all three at once.
    for (let offset = 0; offset < 4 * MiB; offset += 256 * 1024) {
      await Promise.all(
        parts.map((p, i) => hashes[i]!.update(p.subarray(offset, offset + 256 * 1024))),
      );
    }
    const digests = await Promise.all(hashes.map((h) => h.digest()));
    expect(digests).toEqual(parts.map(sha256));
  });

  it('makes the caller wait once batches are queued, instead of queueing without bound', async () => {
    const hash = new Sha256();
    const waiting = hash.update(randomBytes(10 * MiB));
    expect(waiting).toBeInstanceOf(Promise);
    await waiting;
    hash.abort();
  });

  it('is not disturbed by an aborted hash', async () => {
    const aborted = new Sha256();
    await aborted.update(data.subarray(0, 3 * MiB));
    aborted.abort();
    aborted.abort();
    expect(await hashInChunks(data, 64 * 1024)).toBe(sha256(data));
  });
});

describe('ResumableSha256', () => {
  /** `bytes` fed through one shared segment buffer in steps of `step`, as uploads feed it. */
  async function feedAll(hash: ResumableSha256, bytes: Buffer, step: number) {
    const segment = segmentBuffer(4 * MiB);
    try {
      for (let at = 0; at < bytes.length; at += segment.length) {
        const part = bytes.subarray(at, at + segment.length);
        part.copy(segment);
        for (let i = 0; i < part.length; i += step) {
          hash.feed(segment.subarray(i, Math.min(part.length, i + step)));
        }
        // The segment is written over next: wait until the hash has taken it.
        await hash.save();
      }
    } finally {
      releaseSegmentBuffer(segment);
    }
  }

  describe.each([
    ['native (OpenSSL)', false],
    ['hash-wasm', true],
  ] as const)('%s', (_name, wasm) => {
    it('saves its state anywhere and continues from it in a new hash, ending with the digest of the whole', async () => {
      const bytes = randomBytes(9 * MiB + 33);
      for (const cut of [0, 1, 63, 64, 65, 4 * MiB, 9 * MiB + 32]) {
        const first = new ResumableSha256(null, { wasm });
        await feedAll(first, bytes.subarray(0, cut), 100_000);
        const state = await first.save();
        first.close();
        expect(Buffer.from(state).subarray(0, 4).toString() === 'OSSL').toBe(nativeBuilt && !wasm);
        // Through base64, as the database keeps it.
        const second = new ResumableSha256(
          Buffer.from(Buffer.from(state).toString('base64'), 'base64'),
        );
        await feedAll(second, bytes.subarray(cut), MiB);
        expect(await second.digest()).toBe(sha256(bytes));
      }
    });

    it('answers each save with the state after exactly the bytes fed before it', async () => {
      const bytes = randomBytes(3 * MiB);
      const segment = segmentBuffer(3 * MiB);
      bytes.copy(segment);
      const hash = new ResumableSha256(null, { wasm });
      hash.feed(segment.subarray(0, MiB));
      const atOne = hash.save();
      hash.feed(segment.subarray(MiB, 3 * MiB));
      const atThree = hash.save();
      const [one, three] = await Promise.all([atOne, atThree]);
      hash.close();
      releaseSegmentBuffer(segment);
      const fromOne = new ResumableSha256(one);
      await feedAll(fromOne, bytes.subarray(MiB), MiB);
      expect(await fromOne.digest()).toBe(sha256(bytes));
      const fromThree = new ResumableSha256(three);
      expect(await fromThree.digest()).toBe(sha256(bytes));
    });
  });

  it.skipIf(!nativeBuilt)(
    'refuses a native state whose count would overrun its block',
    async () => {
      const hash = new ResumableSha256(null);
      const state = Buffer.from(await hash.save());
      hash.close();
      // SHA256_CTX on x86-64: h[8], Nl, Nh, data[16] (32-bit words), then num: past one block.
      state.writeUInt32LE(65, 4 + 4 * (8 + 2 + 16));
      const bad = new ResumableSha256(state);
      await expect(bad.save()).rejects.toThrow(/not a SHA-256 state/);
      bad.close();
    },
  );

  it('fails, without harm to other hashes, on a state it did not write', async () => {
    const bad = new ResumableSha256(Buffer.from('not a hash state'));
    await expect(bad.save()).rejects.toThrow(/hash worker/);
    bad.close();
    const good = new ResumableSha256(null);
    await feedAll(good, data.subarray(0, MiB + 5), 64 * 1024);
    expect(await good.digest()).toBe(sha256(data.subarray(0, MiB + 5)));
  });

  it('refuses bytes that are not in a shared segment buffer', () => {
    const hash = new ResumableSha256(null);
    expect(() => hash.feed(Buffer.from('plain memory'))).toThrow(TypeError);
    hash.close();
  });
});

describe('HashMeter', () => {
  const sink = () =>
    new Writable({
      write: (_chunk, _encoding, callback) => callback(),
    });

  it('passes the bytes through and reports size, digest and head', async () => {
    const bytes = randomBytes(3 * MiB + 3);
    const meter = new HashMeter(4 * MiB);
    const seen: Buffer[] = [];
    await pipeline(
      Readable.from([bytes.subarray(0, MiB), bytes.subarray(MiB)]),
      meter,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          seen.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(seen).equals(bytes)).toBe(true);
    const result = meter.result();
    expect(result.size).toBe(bytes.length);
    expect(result.sha256).toBe(sha256(bytes));
    expect(result.head.equals(bytes.subarray(0, 4096))).toBe(true);
  });

  it('passes small chunks on in batches of the given size', async () => {
    // Sockets deliver 64 KiB at a time; a file write per chunk ran at a third of the speed of
    // writes of 1 MiB (docs/benchmarks.md, Transfer).
    const bytes = randomBytes(3 * MiB + 5);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 65536) }, (_, i) =>
      bytes.subarray(i * 65536, (i + 1) * 65536),
    );
    const meter = new HashMeter(4 * MiB, MiB, MiB);
    const sizes: number[] = [];
    const seen: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      meter,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          sizes.push(chunk.length);
          seen.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(seen).equals(bytes)).toBe(true);
    expect(sizes).toEqual([MiB, MiB, MiB, 5]);
    expect(meter.result().sha256).toBe(sha256(bytes));
  });

  it('fails with PayloadTooLargeError past maxBytes', async () => {
    const meter = new HashMeter(2 * MiB);
    const chunks = Array.from({ length: 5 }, () => randomBytes(MiB));
    await expect(pipeline(Readable.from(chunks), meter, sink())).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    expect(() => meter.result()).toThrow();
  });
});
