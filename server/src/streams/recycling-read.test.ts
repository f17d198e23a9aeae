import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecyclingFileStream } from './recycling-read.js';

const CHUNK = 64 * 1024;

describe('RecyclingFileStream', () => {
  let dir: string;
  let file: string;
  const bytes = randomBytes(5 * CHUNK + 123);

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-recycle-'));
    file = path.join(dir, 'blob');
    await fs.writeFile(file, bytes);
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  /** Reads the range, copying each chunk; `recycle` decides whether the chunk goes back. */
  async function read(start: number, end: number | undefined, recycle: boolean) {
    const handle = await fs.open(file, 'r');
    const stream = new RecyclingFileStream(handle, { start, end }, CHUNK);
    const copies: Buffer[] = [];
    const seen = new Set<ArrayBufferLike>();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      copies.push(Buffer.from(chunk));
      seen.add(chunk.buffer);
      if (recycle) {
        // Scribbled over first: a recycled buffer must be refilled before it is emitted again.
        chunk.fill(0);
        stream.recycle(chunk);
      }
    }
    return { data: Buffer.concat(copies), buffers: seen.size, handle };
  }

  it('reads the whole file and reuses its buffers when they come back', async () => {
    const { data, buffers, handle } = await read(0, bytes.length - 1, true);
    expect(data.equals(bytes)).toBe(true);
    expect(buffers).toBeLessThan(6);
    // Closed at the end.
    expect(handle.fd).toBe(-1);
  });

  it('reads the whole file with fresh buffers when none come back', async () => {
    const { data, buffers } = await read(0, undefined, false);
    expect(data.equals(bytes)).toBe(true);
    expect(buffers).toBe(6);
  });

  it('reads a range across chunk boundaries', async () => {
    const { data } = await read(CHUNK - 7, 3 * CHUNK + 9, true);
    expect(data.equals(bytes.subarray(CHUNK - 7, 3 * CHUNK + 10))).toBe(true);
  });

  it('takes back only buffers it emitted', async () => {
    const handle = await fs.open(file, 'r');
    const stream = new RecyclingFileStream(handle, { start: 0, end: bytes.length - 1 }, CHUNK);
    const foreign = Buffer.alloc(CHUNK, 1);
    stream.recycle(foreign);
    const copies: Buffer[] = [];
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      expect(chunk.buffer).not.toBe(foreign.buffer);
      copies.push(Buffer.from(chunk));
    }
    expect(Buffer.concat(copies).equals(bytes)).toBe(true);
  });

  it('closes the file when destroyed half way', async () => {
    const handle = await fs.open(file, 'r');
    const stream = new RecyclingFileStream(handle, { start: 0, end: bytes.length - 1 }, CHUNK);
    // Not `once`: breaking out of the loop destroys the stream with an AbortError.
    const closed = new Promise((resolve) => stream.on('close', resolve));
    for await (const _chunk of stream) break;
    await closed;
    expect(stream.destroyed).toBe(true);
    expect(handle.fd).toBe(-1);
  });
});
