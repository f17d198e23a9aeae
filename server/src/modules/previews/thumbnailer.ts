import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Sharp, SharpOptions } from 'sharp';
import { NotFoundError } from '../../errors.js';

// Making thumbnails, off the main thread: sharp decodes and resizes in libuv's thread pool;
// PDFs (Debian's poppler-utils, `pdftoppm`) and videos (Debian's `ffmpeg`) in child processes.
// Every path has a time limit and input limits, and never keeps metadata (EXIF, GPS, XMP, ICC
// profiles beyond sRGB conversion) in its output. SVG is never rasterised (icon instead): it is
// a program, and librsvg would fetch and parse whatever it names.

/** How a type is turned into a thumbnail, or null when it is not (the client shows an icon). */
export type ThumbnailSource = 'image' | 'pdf' | 'video';

const RASTER = new Set([
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/avif',
  'image/tiff',
  'image/heic',
  'image/heif',
]);

export interface ThumbnailLimits {
  /** Decoded pixels an image may have (width × height): decompression bombs stop here. */
  maxPixels: number;
  /** Bytes of the source, per kind: bigger files get no thumbnail and are not read at all. */
  maxImageBytes: number;
  maxPdfBytes: number;
  maxVideoBytes: number;
  /** Wall time for making one thumbnail. */
  timeoutMs: number;
}

export const DEFAULT_LIMITS: ThumbnailLimits = {
  maxPixels: 100_000_000,
  maxImageBytes: 200 * 1024 * 1024,
  maxPdfBytes: 100 * 1024 * 1024,
  maxVideoBytes: 2 * 1024 * 1024 * 1024,
  timeoutMs: 30_000,
};

/** A source that cannot be made into a thumbnail: remembered, never tried again. */
export class NoThumbnail extends Error {
  override name = 'NoThumbnail';
}

// Loaded on first use: libvips is large, and a server that is never asked for a thumbnail (or
// only starts) does not pay for it.
let sharpModule: Promise<typeof import('sharp')> | null = null;
async function createSharp(input: Buffer | string | null, options: SharpOptions): Promise<Sharp> {
  sharpModule ??= import('sharp');
  const { default: sharp } = await sharpModule;
  return input !== null ? sharp(input, options) : sharp(options);
}

const tools = new Map<string, Promise<boolean>>();

/** Whether a Debian tool is installed (checked once per process). */
function hasTool(command: string): Promise<boolean> {
  let known = tools.get(command);
  if (!known) {
    known = new Promise((resolve) => {
      const child = spawn(command, ['-v'], { stdio: 'ignore' });
      child.on('error', () => resolve(false));
      child.on('exit', () => resolve(true));
    });
    tools.set(command, known);
  }
  return known;
}

/** The kind of thumbnail a content type gets, when the tools for it are installed. */
export async function thumbnailSource(mimeType: string): Promise<ThumbnailSource | null> {
  const type = mimeType.toLowerCase();
  if (RASTER.has(type)) return 'image';
  if (type === 'application/pdf') return (await hasTool('pdftoppm')) ? 'pdf' : null;
  if (type.startsWith('video/')) return (await hasTool('ffmpeg')) ? 'video' : null;
  return null;
}

/** Whether `thumbnailSource` would name a kind without asking for tools (for listings). */
export function maybeThumbnailSource(mimeType: string): boolean {
  const type = mimeType.toLowerCase();
  return RASTER.has(type) || type === 'application/pdf' || type.startsWith('video/');
}

export interface ThumbnailInput {
  source: ThumbnailSource;
  /** Size of the stored bytes. */
  size: number;
  /** Opens the stored bytes (once). */
  open(): Promise<Readable>;
  /**
   * The stored bytes' file on this machine, when the store has one: images are then decoded
   * straight from it by libvips, in one of its threads, instead of streamed through the event
   * loop chunk by chunk (each chunk a turn of the main thread and of the thread pool, which on
   * a busy machine cost more wall time than the decoding).
   */
  path?: string;
}

/**
 * A WebP of at most `px` × `px` (long side `px`, never enlarged), EXIF orientation applied,
 * no metadata. Rejects with `NoThumbnail` for input that is too big, undecodable or too slow;
 * anything else (storage failing) is passed on to be tried again later.
 */
export async function makeThumbnail(
  input: ThumbnailInput,
  px: number,
  limits: ThumbnailLimits = DEFAULT_LIMITS,
): Promise<Buffer> {
  const deadline = Date.now() + limits.timeoutMs;
  const cap = {
    image: limits.maxImageBytes,
    pdf: limits.maxPdfBytes,
    video: limits.maxVideoBytes,
  }[input.source];
  if (input.size > cap) throw new NoThumbnail(`source over ${cap} bytes`);
  if (input.size === 0) throw new NoThumbnail('empty source');
  if (input.source === 'image') {
    if (input.path !== undefined) return fromFile(input.path, px, limits, deadline);
    return fromImage(await input.open(), px, limits, deadline);
  }
  const raster =
    input.source === 'pdf'
      ? await run('pdftoppm', pdfArgs(px), await input.open(), deadline)
      : await videoFrame(input, px, deadline);
  if (raster.length === 0) throw new NoThumbnail(`${input.source}: no frame`);
  return fromImage(raster, px, limits, deadline);
}

/**
 * `fromImage` of a file libvips opens itself. A file gone meanwhile (its last file deleted for
 * good, or a store that lost it) rejects as the store's own read does: NOT_FOUND, the content is
 * missing, which the routes answer with 404 as a download does; nothing is remembered.
 */
async function fromFile(
  file: string,
  px: number,
  limits: ThumbnailLimits,
  deadline: number,
): Promise<Buffer> {
  try {
    return await fromImage(file, px, limits, deadline);
  } catch (err) {
    const gone = await fs.access(file).then(
      () => false,
      () => true,
    );
    if (gone) throw new NotFoundError('The file content is missing.');
    throw err;
  }
}

async function fromImage(
  body: Readable | Buffer | string,
  px: number,
  limits: ThumbnailLimits,
  deadline: number,
): Promise<Buffer> {
  const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
  // `limitInputPixels` is checked against the header before any pixel is decoded, so a bomb
  // (a tiny PNG declaring 10¹⁰ pixels) fails at once. Only the first frame or page is read
  // (sharp’s default).
  const pipelineOptions = { limitInputPixels: limits.maxPixels, failOn: 'error' as const };
  const direct = Buffer.isBuffer(body) || typeof body === 'string';
  const transform = (await createSharp(direct ? body : null, pipelineOptions))
    .rotate()
    .resize(px, px, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort: 2 })
    .timeout({ seconds });
  if (direct) {
    return transform.toBuffer().catch((err: Error) => {
      throw new NoThumbnail(`image: ${err.message}`);
    });
  }
  // A failing read of the stored bytes is the store's fault, not the image's: passed on as is.
  let readError: Error | null = null;
  body.on('error', (err) => {
    readError = err;
    transform.destroy(err);
  });
  body.pipe(transform);
  try {
    return await transform.toBuffer();
  } catch (err) {
    if (readError) throw readError;
    throw new NoThumbnail(`image: ${(err as Error).message}`);
  } finally {
    body.destroy();
  }
}

const pdfArgs = (px: number) => [
  '-png',
  '-f',
  '1',
  '-l',
  '1',
  '-singlefile',
  '-scale-to',
  String(px),
  // The first page only, from stdin, to stdout.
  '-',
];

/** A frame a second in (or the first, for shorter videos) as PNG, at most `px` on its long side. */
async function videoFrame(input: ThumbnailInput, px: number, deadline: number): Promise<Buffer> {
  // ffmpeg needs to seek (an MP4's index is often at its end): the bytes go to a private temp
  // file first, removed whatever happens.
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-frame-'));
  try {
    const file = path.join(dir, 'video');
    await pipeline(await input.open(), createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    const scale = `scale=${px}:${px}:force_original_aspect_ratio=decrease`;
    const args = (at: string) => [
      '-nostdin',
      '-v',
      'error',
      '-threads',
      '1',
      '-ss',
      at,
      '-i',
      file,
      '-frames:v',
      '1',
      '-vf',
      scale,
      '-f',
      'image2pipe',
      '-c:v',
      'png',
      '-',
    ];
    const frame = await run('ffmpeg', args('1'), null, deadline).catch(() => Buffer.alloc(0));
    return frame.length > 0 ? frame : await run('ffmpeg', args('0'), null, deadline);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Output of a tool whose stdout is at most 64 MiB; killed at the deadline. */
async function run(
  command: string,
  args: string[],
  stdin: Readable | null,
  deadline: number,
): Promise<Buffer> {
  const child = spawn(command, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'ignore'] });
  const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
  const chunks: Buffer[] = [];
  let bytes = 0;
  // Always piped (stdio above); typed nullable because stdin may be ignored.
  child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > 64 * 1024 * 1024) child.kill('SIGKILL');
    else chunks.push(chunk);
  });
  if (stdin && child.stdin) {
    // The tool may stop reading early (it found what it needs, or gave up): not an error here.
    child.stdin.on('error', () => undefined);
    stdin.on('error', () => child.kill('SIGKILL'));
    stdin.pipe(child.stdin);
  }
  try {
    // `close`, not `exit`: stdout is read to its end by then.
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    if (signal) throw new NoThumbnail(`${command}: stopped (${signal})`);
    if (code !== 0) throw new NoThumbnail(`${command}: exit ${code}`);
    return Buffer.concat(chunks);
  } finally {
    clearTimeout(timer);
    stdin?.destroy();
  }
}
