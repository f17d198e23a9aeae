import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import { randomBytes } from 'node:crypto';
import * as keys from './keys.js';
import { HashMeter } from '../streams/hash-meter.js';
import { RecyclingFileStream } from '../streams/recycling-read.js';
import type * as driver from './storage.js';

/** 256 KiB reads: about 40 % less CPU per byte sent than Node's 64 KiB default (transfer bench). */
const READ_CHUNK = 256 * 1024;

/**
 * Blobs on the local disk under `<root>/blobs/ab/cd/<sha256>`; temp uploads in `<root>/tmp`, on
 * the same file system so `commit` is an atomic rename. Paths are built only from validated hex
 * keys, never from anything a user named, so no input can reach outside `root`.
 */
export class LocalStorage implements driver.StorageDriver {
  readonly #blobs: string;
  readonly #tmp: string;
  readonly #derived: string;
  readonly #instance: string | null;
  #ready: Promise<void> | null = null;

  constructor(root: string, options: driver.DriverOptions = {}) {
    this.#blobs = path.join(path.resolve(root), 'blobs');
    this.#tmp = path.join(path.resolve(root), 'tmp');
    this.#derived = path.join(path.resolve(root), 'derived');
    this.#instance = options.instance ?? null;
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= Promise.all([
      fs.mkdir(this.#blobs, { recursive: true }),
      fs.mkdir(this.#tmp, { recursive: true }),
    ]).then(() => undefined);
    return this.#ready;
  }

  #blobPath(sha256: string): string {
    keys.assertBlobKey(sha256);
    return path.join(this.#blobs, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  #tempPath(tempKey: string): string {
    keys.assertTempKey(tempKey);
    return path.join(this.#tmp, `${tempKey}.part`);
  }

  async putTemp(body: Readable, options: driver.PutOptions): Promise<driver.TempObject> {
    await this.#ensureDirs();
    const tempKey = keys.newTempKey(this.#instance);
    const file = this.#tempPath(tempKey);
    const meter = new HashMeter(options.maxBytes);
    // `wx`: never reuse or follow an existing path; the key is fresh, so one existing is a bug.
    // Opened here rather than by the write stream: pipeline can reject before all its streams
    // have closed (an error event counts a stream as finished), and a file stream still opening
    // then created its file after the rm below had run, leaving it behind (2 in 200 cut uploads).
    const handle = await fs.open(file, 'wx');
    try {
      await pipeline(body, meter, handle.createWriteStream());
    } catch (err) {
      await fs.rm(file, { force: true });
      throw err;
    }
    return { tempKey, ...meter.result() };
  }

  async commit(tempKey: string, sha256: string): Promise<void> {
    const from = this.#tempPath(tempKey);
    const to = this.#blobPath(sha256);
    if (await this.exists(sha256)) {
      await fs.rm(from, { force: true });
      return;
    }
    await fs.mkdir(path.dirname(to), { recursive: true });
    // A concurrent commit of the same bytes may win the race; rename then replaces an identical
    // file, which is harmless.
    await fs.rename(from, to);
  }

  // A partial object lives beside the temp objects as `<tempKey>.upload`: `listTemp` skips it (it
  // may outlive the instance its key names), and `completePartial` renames it to the temp name.
  #partialPath(tempKey: string): string {
    keys.assertTempKey(tempKey);
    return path.join(this.#tmp, `${tempKey}.upload`);
  }

  /** 1 MiB writes run at the disk's full speed here (64 KiB ones at a fifth of it). */
  readonly partialPieceBytes = 1024 * 1024;

  async createPartial(): Promise<driver.PartialObject> {
    await this.#ensureDirs();
    const tempKey = keys.newTempKey(this.#instance);
    await (await fs.open(this.#partialPath(tempKey), 'wx')).close();
    return { tempKey, size: 0, state: '{}' };
  }

  async appendPartial(partial: driver.PartialObject, bytes: Buffer): Promise<driver.PartialObject> {
    // Written at the kept offset, not appended: whatever a failed earlier append left past it is
    // overwritten, and `completePartial` cuts any rest.
    const handle = await fs.open(this.#partialPath(partial.tempKey), 'r+');
    try {
      let done = 0;
      while (done < bytes.length) {
        const { bytesWritten } = await handle.write(
          bytes,
          done,
          bytes.length - done,
          partial.size + done,
        );
        done += bytesWritten;
      }
    } finally {
      await handle.close();
    }
    return { ...partial, size: partial.size + bytes.length };
  }

  async openPartial(partial: driver.PartialObject): Promise<driver.PartialAppender> {
    // A missing partial file is no error yet: the empty PATCH that finishes an upload whose bytes
    // had all arrived before a crash writes nothing, and finishing then says the upload was lost.
    const handle = await fs
      .open(this.#partialPath(partial.tempKey), 'r+')
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
    return {
      async append(at, chunks) {
        if (!handle) throw new NotFoundError('The upload was lost; start again.');
        // Written at the kept offset, as appendPartial.
        let position = at.size;
        let rest = chunks.filter((c) => c.length);
        while (rest.length) {
          let { bytesWritten } = await handle.writev(rest, position);
          position += bytesWritten;
          // A short write (rare: a signal, a full disk's last blocks) goes on from where it stopped.
          const left: Buffer[] = [];
          for (const chunk of rest) {
            if (bytesWritten >= chunk.length) bytesWritten -= chunk.length;
            else {
              left.push(bytesWritten ? chunk.subarray(bytesWritten) : chunk);
              bytesWritten = 0;
            }
          }
          rest = left;
        }
        return { ...at, size: position };
      },
      async close() {
        await handle?.close();
      },
    };
  }

  async completePartial(partial: driver.PartialObject): Promise<void> {
    const from = this.#partialPath(partial.tempKey);
    await fs.truncate(from, partial.size);
    await fs.rename(from, this.#tempPath(partial.tempKey));
  }

  async discardPartial(partial: driver.PartialObject): Promise<void> {
    await fs.rm(this.#partialPath(partial.tempKey), { force: true });
  }

  async discardTemp(tempKey: string): Promise<void> {
    await fs.rm(this.#tempPath(tempKey), { force: true });
  }

  async read(sha256: string, range?: driver.ByteRange): Promise<Readable> {
    const file = this.#blobPath(sha256);
    // Opened before the stream is returned, so a missing blob is a rejection here rather than an
    // error event after the response headers went out.
    const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new NotFoundError('The file content is missing.');
      throw err;
    });
    return new RecyclingFileStream(handle, range ?? { start: 0 }, READ_CHUNK);
  }

  localPath(sha256: string): string {
    return this.#blobPath(sha256);
  }

  async exists(sha256: string): Promise<boolean> {
    const file = this.#blobPath(sha256);
    try {
      await fs.access(file);
      return true;
    } catch {
      return false;
    }
  }

  async delete(sha256: string): Promise<void> {
    await fs.rm(this.#blobPath(sha256), { force: true });
  }

  // Derived objects under `<root>/derived/ab/<key>`, fanned out by the blob's first byte.
  #derivedPath(key: string): string {
    keys.assertDerivedKey(key);
    return path.join(this.#derived, key.slice(0, 2), key);
  }

  async putDerived(key: string, bytes: Buffer): Promise<void> {
    const to = this.#derivedPath(key);
    await fs.mkdir(path.dirname(to), { recursive: true });
    // Written beside its final name, then renamed over it: a reader never sees half an object.
    // A crash leaves a dot-file that no key names; deleteDerived removes it with the blob's others.
    const part = path.join(path.dirname(to), `.${key}.${randomBytes(8).toString('hex')}`);
    try {
      await fs.writeFile(part, bytes, { flag: 'wx' });
      await fs.rename(part, to);
    } catch (err) {
      await fs.rm(part, { force: true });
      throw err;
    }
  }

  async readDerived(key: string): Promise<Buffer | null> {
    return fs.readFile(this.#derivedPath(key)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
  }

  async deleteDerived(sha256: string): Promise<void> {
    keys.assertBlobKey(sha256);
    const dir = path.join(this.#derived, sha256.slice(0, 2));
    for (const name of await listDir(dir)) {
      if (name.startsWith(`${sha256}-`) || name.startsWith(`.${sha256}-`)) {
        await fs.rm(path.join(dir, name), { force: true });
      }
    }
  }

  async *listTemp(): AsyncIterable<driver.TempListing> {
    await this.#ensureDirs();
    const dir = await fs.opendir(this.#tmp);
    for await (const entry of dir) {
      const key = entry.name.endsWith('.part') ? entry.name.slice(0, -'.part'.length) : '';
      if (!entry.isFile() || !keys.isTempKey(key)) continue;
      // Gone in between (committed or discarded): not a temp object any more.
      const stat = await fs.stat(path.join(this.#tmp, entry.name)).catch(() => null);
      if (stat) yield { tempKey: key, modifiedAt: stat.mtimeMs };
    }
  }

  async *listBlobs(): AsyncIterable<driver.BlobListing> {
    await this.#ensureDirs();
    // blobs/ab/cd/<sha256>: walk the two fan-out levels, then the files of each leaf folder.
    for (const a of await listDir(this.#blobs)) {
      for (const b of await listDir(path.join(this.#blobs, a))) {
        const leaf = path.join(this.#blobs, a, b);
        for (const name of await listDir(leaf)) {
          if (!keys.isBlobKey(name) || name.slice(0, 2) !== a || name.slice(2, 4) !== b) continue;
          const stat = await fs.stat(path.join(leaf, name)).catch(() => null);
          if (stat?.isFile()) yield { sha256: name, size: stat.size };
        }
      }
    }
  }
}

/** Names in a folder; none when it is missing or not a folder. */
async function listDir(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => []);
}
