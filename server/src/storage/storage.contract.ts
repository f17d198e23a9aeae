import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PayloadTooLargeError } from '../errors.js';
import { derivedKey, InvalidStorageKeyError, tempKeyInstance } from './keys.js';
import type { StorageDriver } from './storage.js';

export interface ContractTarget {
  /** Built with `{ instance }`. */
  driver: StorageDriver;
  instance: string;
  /** Counts temp objects the driver holds, to prove failures leave none behind. */
  countTemp(): Promise<number>;
  /** How many uploads the race test cuts (cheap on a local disk, a request each on S3). */
  cutRounds?: number;
  close?(): Promise<void>;
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Yields `chunks` then fails, like a client whose connection drops mid-upload. */
function failingStream(chunks: Buffer[]): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks) {
        yield chunk;
        await sleep(1);
      }
      throw new Error('connection reset');
    })(),
  );
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** The behaviour every StorageDriver must have; run by each driver's test file. */
export function describeStorageContract(name: string, open: () => Promise<ContractTarget>): void {
  describe(`StorageDriver contract: ${name}`, () => {
    let target: ContractTarget;
    let storage: StorageDriver;
    beforeAll(async () => {
      target = await open();
      storage = target.driver;
    });
    afterAll(() => target.close?.());

    const put = async (bytes: Buffer) => {
      const temp = await storage.putTemp(Readable.from([bytes]), { maxBytes: 1 << 30 });
      await storage.commit(temp.tempKey, temp.sha256);
      return temp;
    };

    it('streams in, hashes, commits and reads back whole and by range', async () => {
      const bytes = Buffer.from('hello, cabinet — ünïcödé\n'.repeat(1000));
      const temp = await storage.putTemp(
        Readable.from([bytes.subarray(0, 7000), bytes.subarray(7000)]),
        { maxBytes: bytes.length },
      );
      expect(temp.size).toBe(bytes.length);
      expect(temp.sha256).toBe(sha(bytes));
      expect(temp.head.equals(bytes.subarray(0, 4096))).toBe(true);
      expect(await storage.exists(temp.sha256)).toBe(false);

      await storage.commit(temp.tempKey, temp.sha256);
      expect(await storage.exists(temp.sha256)).toBe(true);
      expect(await target.countTemp()).toBe(0);
      expect((await buffer(await storage.read(temp.sha256))).equals(bytes)).toBe(true);
      const part = await buffer(await storage.read(temp.sha256, { start: 10, end: 19 }));
      expect(part.equals(bytes.subarray(10, 20))).toBe(true);
      const last = await buffer(
        await storage.read(temp.sha256, { start: bytes.length - 1, end: bytes.length - 1 }),
      );
      expect(last.equals(bytes.subarray(-1))).toBe(true);
    });

    it('stores an empty object', async () => {
      const temp = await put(Buffer.alloc(0));
      expect(temp.size).toBe(0);
      expect(temp.sha256).toBe(sha(Buffer.alloc(0)));
      expect((await buffer(await storage.read(temp.sha256))).length).toBe(0);
    });

    it('commits identical bytes twice without error and keeps one object', async () => {
      const bytes = Buffer.from('same bytes');
      const a = await put(bytes);
      const b = await put(bytes);
      expect(a.sha256).toBe(b.sha256);
      expect(await target.countTemp()).toBe(0);
      expect((await buffer(await storage.read(a.sha256))).equals(bytes)).toBe(true);
    });

    it('stops at maxBytes with PayloadTooLargeError and leaves no temp object', async () => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      await expect(
        storage.putTemp(Readable.from([chunk, chunk, chunk]), { maxBytes: 100_000 }),
      ).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(await target.countTemp()).toBe(0);
    });

    it('leaves no temp object behind however early an upload is cut, round after round', async () => {
      // A refusal at the first bytes races the opening of the temp object; the loser used to be
      // a file created after its removal (about 1 in 1,000 rounds here).
      const chunk = Buffer.alloc(100, 3);
      for (let i = 0; i < (target.cutRounds ?? 50); i++) {
        await expect(
          storage.putTemp(Readable.from([chunk, chunk]), { maxBytes: 150 }),
        ).rejects.toBeInstanceOf(PayloadTooLargeError);
      }
      // A file created after its removal stays: by now every earlier round's would be there.
      expect(await target.countTemp()).toBe(0);
    });

    it('removes the temp object when the body fails midway', async () => {
      const chunk = Buffer.alloc(32 * 1024, 2);
      await expect(
        storage.putTemp(failingStream([chunk, chunk]), { maxBytes: 1 << 20 }),
      ).rejects.toThrow('connection reset');
      expect(await target.countTemp()).toBe(0);
    });

    it('discards a temp object on request, idempotently', async () => {
      const temp = await storage.putTemp(Readable.from([Buffer.from('abandoned')]), {
        maxBytes: 100,
      });
      expect(await target.countTemp()).toBe(1);
      await storage.discardTemp(temp.tempKey);
      await storage.discardTemp(temp.tempKey);
      expect(await target.countTemp()).toBe(0);
      expect(await storage.exists(temp.sha256)).toBe(false);
    });

    it('deletes idempotently and reports missing objects as NotFoundError', async () => {
      const temp = await put(Buffer.from('to be deleted'));
      await storage.delete(temp.sha256);
      await storage.delete(temp.sha256);
      expect(await storage.exists(temp.sha256)).toBe(false);
      await expect(storage.read(temp.sha256)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('names its instance in temp keys and lists temp objects until they are gone', async () => {
      const before = Date.now();
      const temp = await storage.putTemp(Readable.from([Buffer.from('left by a crash')]), {
        maxBytes: 100,
      });
      expect(tempKeyInstance(temp.tempKey)).toBe(target.instance);
      const listed = await collect(storage.listTemp());
      expect(listed.map((t) => t.tempKey)).toEqual([temp.tempKey]);
      // Object stores keep modification times in whole seconds.
      expect(listed[0]!.modifiedAt).toBeGreaterThan(before - 2_000);
      expect(listed[0]!.modifiedAt).toBeLessThan(Date.now() + 2_000);
      await storage.discardTemp(temp.tempKey);
      expect(await collect(storage.listTemp())).toEqual([]);
      await expect(storage.commit(temp.tempKey, temp.sha256)).rejects.toThrow();
    });

    it('lists committed objects with their sizes, and not temp objects', async () => {
      const a = await put(Buffer.from('listed one'));
      const b = await put(Buffer.alloc(70_000, 7));
      const pending = await storage.putTemp(Readable.from([Buffer.from('not yet committed')]), {
        maxBytes: 100,
      });
      const listed = new Map((await collect(storage.listBlobs())).map((o) => [o.sha256, o.size]));
      expect(listed.get(a.sha256)).toBe(a.size);
      expect(listed.get(b.sha256)).toBe(b.size);
      expect(listed.has(pending.sha256)).toBe(false);
      await storage.delete(a.sha256);
      await storage.discardTemp(pending.tempKey);
      const after = await collect(storage.listBlobs());
      expect(after.some((o) => o.sha256 === a.sha256)).toBe(false);
      expect(after.some((o) => o.sha256 === b.sha256)).toBe(true);
    });

    it('stores, replaces, reads and removes derived objects apart from blobs', async () => {
      const blob = await put(Buffer.from('a blob with thumbnails'));
      const small = derivedKey(blob.sha256, blob.size, 'thumb256');
      const large = derivedKey(blob.sha256, blob.size, 'thumb1024');
      const otherBlob = sha(Buffer.from('another blob'));
      const other = derivedKey(otherBlob, 12, 'thumb256');
      expect(await storage.readDerived(small)).toBeNull();
      await storage.putDerived(small, Buffer.from('first'));
      await storage.putDerived(small, Buffer.from('second version'));
      await storage.putDerived(large, Buffer.alloc(300_000, 5));
      await storage.putDerived(other, Buffer.from('kept'));
      expect((await storage.readDerived(small))?.toString()).toBe('second version');
      expect((await storage.readDerived(large))?.equals(Buffer.alloc(300_000, 5))).toBe(true);
      // Never mistaken for blobs or temp objects by the doctor or the stale sweep.
      const blobs = (await collect(storage.listBlobs())).map((o) => o.sha256);
      expect(blobs.filter((k) => k === blob.sha256)).toHaveLength(1);
      expect(blobs).not.toContain(otherBlob);
      expect(await target.countTemp()).toBe(0);
      await storage.deleteDerived(blob.sha256);
      await storage.deleteDerived(blob.sha256);
      expect(await storage.readDerived(small)).toBeNull();
      expect(await storage.readDerived(large)).toBeNull();
      expect((await storage.readDerived(other))?.toString()).toBe('kept');
      expect(await storage.exists(blob.sha256)).toBe(true);
      await storage.deleteDerived(otherBlob);
      await storage.delete(blob.sha256);
    });

    it('rejects derived keys of any other shape', async () => {
      const hex = 'a'.repeat(64);
      for (const key of [
        hex,
        `${hex}-1-../x`,
        `${hex}-01-thumb`,
        `../${hex}-1-t`,
        '',
        `${hex}-1-`,
      ]) {
        await expect(storage.readDerived(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
        await expect(storage.putDerived(key, Buffer.from('x'))).rejects.toBeInstanceOf(
          InvalidStorageKeyError,
        );
      }
      await expect(storage.deleteDerived('../x')).rejects.toBeInstanceOf(InvalidStorageKeyError);
      expect(() => derivedKey(hex, -1, 'thumb256')).toThrow(InvalidStorageKeyError);
      expect(() => derivedKey(hex, 1, 'Thumb/256')).toThrow(InvalidStorageKeyError);
    });

    describe('partial objects (resumable uploads)', () => {
      // Over S3's 5 MiB minimum part, so parts and tails both occur.
      const big = Buffer.alloc(6 * 1024 * 1024 + 123);
      for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);

      it('appends in pieces across a restart of the driver state and completes exactly', async () => {
        let partial = await storage.createPartial();
        expect(partial.size).toBe(0);
        const pieces = [
          big.subarray(0, 1000),
          big.subarray(1000, 3_000_000),
          big.subarray(3_000_000),
        ];
        for (const piece of pieces) {
          partial = await storage.appendPartial(partial, piece);
          // What the caller keeps goes through a database as text: nothing else may carry over.
          partial = JSON.parse(JSON.stringify(partial)) as typeof partial;
        }
        expect(partial.size).toBe(big.length);
        expect((await collect(storage.listTemp())).map((t) => t.tempKey)).not.toContain(
          partial.tempKey,
        );
        await storage.completePartial(partial);
        await storage.commit(partial.tempKey, sha(big));
        expect(await target.countTemp()).toBe(0);
        expect((await buffer(await storage.read(sha(big)))).equals(big)).toBe(true);
        await storage.delete(sha(big));
      });

      it('appends lists of chunks through one open partial object, where the driver has it', async () => {
        if (!storage.openPartial) return;
        let partial = await storage.createPartial();
        partial = await storage.appendPartial(partial, big.subarray(0, 10));
        const appender = await storage.openPartial(partial);
        // Socket-sized chunks, an empty one among them, in appends of a few chunks each.
        const chunks: Buffer[] = [Buffer.alloc(0)];
        for (let at = 10; at < big.length; at += 65_536) chunks.push(big.subarray(at, at + 65_536));
        for (let i = 0; i < chunks.length; i += 7) {
          partial = await appender.append(partial, chunks.slice(i, i + 7));
        }
        await appender.close();
        expect(partial.size).toBe(big.length);
        await storage.completePartial(partial);
        await storage.commit(partial.tempKey, sha(big));
        expect((await buffer(await storage.read(sha(big)))).equals(big)).toBe(true);
        await storage.delete(sha(big));
      });

      it('lets an append be retried from the state kept before it', async () => {
        const start = await storage.appendPartial(await storage.createPartial(), Buffer.from('ab'));
        // An append whose result was never kept (the process died before saving it)…
        await storage.appendPartial(start, big);
        // …is replaced by the one made again from the kept state.
        const other = Buffer.alloc(big.length, 9);
        let partial = await storage.appendPartial(start, other);
        partial = await storage.appendPartial(partial, Buffer.from('yz'));
        await storage.completePartial(partial);
        const expected = Buffer.concat([Buffer.from('ab'), other, Buffer.from('yz')]);
        await storage.commit(partial.tempKey, sha(expected));
        expect((await buffer(await storage.read(sha(expected)))).equals(expected)).toBe(true);
        await storage.delete(sha(expected));
      });

      it('completes an empty partial object', async () => {
        const partial = await storage.createPartial();
        await storage.completePartial(partial);
        await storage.commit(partial.tempKey, sha(Buffer.alloc(0)));
        expect((await buffer(await storage.read(sha(Buffer.alloc(0))))).length).toBe(0);
        expect(await target.countTemp()).toBe(0);
      });

      it('discards a partial object with its bytes, idempotently', async () => {
        let partial = await storage.createPartial();
        partial = await storage.appendPartial(partial, big);
        partial = await storage.appendPartial(partial, Buffer.from('tail'));
        await storage.discardPartial(partial);
        await storage.discardPartial(partial);
        expect(await target.countTemp()).toBe(0);
      });
    });

    it('rejects every key that is not a hex SHA-256, before touching the store', async () => {
      const bad = ['../../etc/passwd', '..', '', 'A'.repeat(64), `${'a'.repeat(63)}/`, 'a/b'];
      for (const key of bad) {
        await expect(storage.read(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
        await expect(storage.exists(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
        await expect(storage.delete(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
        await expect(storage.discardTemp(key)).rejects.toBeInstanceOf(InvalidStorageKeyError);
      }
    });
  });
}
