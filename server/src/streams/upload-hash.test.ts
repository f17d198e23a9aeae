import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { releaseSegmentBuffer, ResumableSha256, segmentBuffer } from './sha256-worker.js';
import { nativeUploadHash, openUploadHash, type UploadHash } from './upload-hash.js';

const MiB = 1024 * 1024;
/** npm install builds server/native; where it is built, uploads must hash on the thread pool. */
const nativeBuilt = existsSync(
  new URL('../../native/build/Release/sha256_state.node', import.meta.url),
);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Socket-like chunks of `bytes`: `size` each, in updates of `perUpdate` chunks. */
async function feed(hash: UploadHash, bytes: Buffer, size: number, perUpdate: number) {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  const updates: Promise<void>[] = [];
  // Not awaited one by one: updates queue behind each other, as a request issues them.
  for (let i = 0; i < chunks.length; i += perUpdate) {
    updates.push(hash.update(chunks.slice(i, i + perUpdate)));
  }
  await Promise.all(updates);
}

describe('openUploadHash', () => {
  it('hashes on the thread pool wherever server/native is built', () => {
    expect(nativeUploadHash).toBe(nativeBuilt);
  });

  describe.each([
    ['thread pool (native)', false],
    ['hash thread (hash-wasm)', true],
  ] as const)('%s', (_name, wasm) => {
    it('saves after exactly the updates before, and continues from any save to the whole digest', async () => {
      const bytes = randomBytes(5 * MiB + 77);
      const hash = openUploadHash(null, { wasm });
      // Saves asked while updates are still queued: each covers exactly the bytes before it.
      const cuts = [0, 65_536, 2 * MiB + 13, 5 * MiB + 77];
      const saves: Promise<Uint8Array>[] = [];
      for (let i = 0; i < cuts.length; i++) {
        if (i) void hash.update([bytes.subarray(cuts[i - 1], cuts[i])]);
        saves.push(hash.save());
      }
      const states = await Promise.all(saves);
      hash.close();
      for (const [i, state] of states.entries()) {
        expect(Buffer.from(state).subarray(0, 4).toString() === 'OSSL').toBe(nativeBuilt && !wasm);
        // Through base64, as the database keeps it.
        const next = openUploadHash(Buffer.from(Buffer.from(state).toString('base64'), 'base64'));
        await feed(next, bytes.subarray(cuts[i]), 64 * 1024, 16);
        expect(await next.digest()).toBe(sha256(bytes));
      }
    });

    it('matches node:crypto over many small chunks and empty ones', async () => {
      const bytes = randomBytes(3 * MiB + 5);
      const hash = openUploadHash(null, { wasm });
      await hash.update([]);
      await hash.update([Buffer.alloc(0), bytes.subarray(0, 1)]);
      await feed(hash, bytes.subarray(1), 1000, 300);
      expect(await hash.digest()).toBe(sha256(bytes));
    });
  });

  it('continues a state the hash thread saved natively, and one hash-wasm saved', async () => {
    const bytes = randomBytes(2 * MiB + 3);
    for (const wasm of [false, true]) {
      const first = new ResumableSha256(null, { wasm });
      const segment = segmentBuffer(MiB);
      bytes.copy(segment, 0, 0, MiB);
      first.feed(segment);
      const state = await first.save();
      first.close();
      releaseSegmentBuffer(segment);
      const next = openUploadHash(state);
      await next.update([bytes.subarray(MiB)]);
      expect(await next.digest()).toBe(sha256(bytes));
    }
  });

  it.skipIf(!nativeBuilt)(
    'refuses a state it cannot continue, before hashing anything',
    async () => {
      const hash = openUploadHash(null);
      const state = Buffer.from(await hash.save());
      hash.close();
      // SHA256_CTX on x86-64: h[8], Nl, Nh, data[16] (32-bit words), then num: past one block.
      state.writeUInt32LE(65, 4 + 4 * (8 + 2 + 16));
      expect(() => openUploadHash(state)).toThrow(/not a SHA-256 state/);
      // Not a state at all: hash-wasm's side refuses it on the hash thread.
      const garbage = openUploadHash(Buffer.from('not a hash state'));
      await expect(garbage.save()).rejects.toThrow(/hash worker/);
      garbage.close();
    },
  );

  it('fails every operation after close', async () => {
    for (const wasm of [false, true]) {
      const hash = openUploadHash(null, { wasm });
      hash.close();
      await expect(hash.update([Buffer.from('x')])).rejects.toThrow(/closed/);
      await expect(hash.save()).rejects.toThrow(/closed/);
    }
  });
});
