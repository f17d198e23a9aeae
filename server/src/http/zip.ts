import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { FileRow } from '../db/database.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RecordedDownload } from '../modules/downloads/downloads.repository.js';
import type { Services } from '../services.js';
import { contentDisposition, type Refusal } from './download.js';

// Many files as one ZIP streamed while their blobs are read: a share link's files
// (`/s/:token/zip`) and a signed-in person's selection (`/files/zip`). docs/api.md describes both.

// yazl checksums every entry with buffer-crc32, a byte-at-a-time JavaScript loop: ~60 MiB/s here,
// which capped a ZIP at under half the download route's speed. Node's own zlib.crc32 (native,
// same function, same results) does several GiB/s, so yazl's copy of buffer-crc32 is pointed at
// it. The ZIP tests check every entry's CRC against a separate implementation.
const yazlRequire = createRequire(createRequire(import.meta.url).resolve('yazl'));
(yazlRequire('buffer-crc32') as { unsigned: (buf: Buffer, previous?: number) => number }).unsigned =
  (buf, previous = 0) => zlib.crc32(buf, previous);

/**
 * Names inside the ZIP: the files' names with path separators made harmless (an entry named
 * `a/b` would unpack into a folder, `..` segments out of it), and unique ignoring case, as most
 * file systems compare them: `a.txt`, `a (2).txt`.
 */
export function zipEntryNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw) => {
    const base = raw.replace(/[/\\]/g, '_').replace(/^\.+$/, '_') || '_';
    const dot = base.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
    let name = base;
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${stem} (${n})${ext}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

export interface ZipOptions {
  /** The files, in the order of their entries. */
  files: readonly FileRow[];
  /** The name the ZIP downloads as. */
  fileName: string;
  services: Services;
  log: Logger;
  /** Fields that tell the log lines of this ZIP apart (the link, the user). */
  logContext: Record<string, unknown>;
  /** The answer (404) when a file's bytes are missing from storage. */
  missingText: string;
  /**
   * Counts one download per file, all or none, before the first byte goes out, and answers the
   * history rows written; an AppError when they may not be counted (then that refusal is all
   * that is sent). Not called for HEAD.
   */
  record(): Promise<AppError | readonly RecordedDownload[]>;
  /**
   * Takes back `unsent`: downloads counted for files never begun because storage failed mid-way
   * (a blob gone after the check). A client that goes away keeps every count, as a download
   * from byte 0 does.
   */
  release(unsent: readonly RecordedDownload[]): Promise<void>;
  refuse: Refusal;
}

/**
 * The files as one ZIP, stored (not compressed: most files worth sharing are compressed already,
 * and deflate would cap the speed at the CPU's). yazl writes each entry while its blob is read,
 * opening one blob at a time, with UTF-8 names (the language encoding flag) and ZIP64 where sizes
 * need it; no temp file, and an exact Content-Length. Every blob is checked to exist first, then
 * the downloads are counted (`record`), then the bytes go out.
 */
export async function sendZip(
  req: IncomingMessage,
  res: ServerResponse,
  options: ZipOptions,
): Promise<void> {
  const { files, services, log } = options;
  // Every blob is checked before anything is counted or sent: one gone from storage is a clean
  // 404 with nothing recorded, not a ZIP cut off after some files were counted. (One that goes
  // in between still cuts the stream, below.) A few at a time: on S3 each is a request.
  if (!(await allStored(files, services))) {
    log.warn(options.logContext, 'zip: a blob is missing from storage');
    return options.refuse(404, options.missingText);
  }
  const headers = {
    'content-type': 'application/zip',
    'content-disposition': contentDisposition(options.fileName),
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'; sandbox",
  };
  const zip = new yazl.ZipFile();
  // A blob that fails to open or read mid-way (an EventEmitter 'error': unhandled, it would end
  // the process) cuts the response: the client sees a broken download, not a short valid ZIP.
  const output = zip.outputStream as Readable;
  let storageFailed = false;
  zip.on('error', (err: Error) => {
    storageFailed = true;
    output.destroy(err);
  });
  // The files whose bytes began to go out (yazl opens one entry at a time, in order).
  const started = new Set<number>();
  // yazl asks for the first entry's stream as soon as it is added. No blob is opened before
  // the bytes are to go out: a HEAD or a refused ZIP would leave it open, read by nobody.
  let go!: () => void;
  const going = new Promise<void>((resolve) => (go = resolve));
  const names = zipEntryNames(files.map((f) => f.name));
  files.forEach((file, i) => {
    zip.addReadStreamLazy(
      names[i]!,
      { size: file.size, mtime: new Date(file.updated_at), compress: false },
      (done) => {
        going
          .then(() => services.files.read(file))
          .then(
            (stream) => {
              started.add(file.id);
              // yazl pipes a lazy entry's stream without listening for its errors: a read failing
              // mid-way would be an unhandled 'error', the end of the process. It ends the ZIP.
              stream.once('error', (err) => zip.emit('error', err));
              done(null, stream);
            },
            (err: Error) => done(err, undefined as never),
          );
      },
    );
  });
  // @types/yazl misses the total yazl passes: the ZIP's exact size, or -1 when unknown.
  const end = zip.end.bind(zip) as unknown as (options: object, sized: (n: number) => void) => void;
  const size = await new Promise<number>((resolve) => end({}, resolve));
  const sized = size >= 0 ? { 'content-length': size } : {};
  if (req.method === 'HEAD') {
    res.writeHead(200, { ...headers, ...sized });
    return void res.end();
  }
  const recorded = await options.record();
  if (recorded instanceof AppError) return options.refuse(recorded.status, recorded.message);
  res.writeHead(200, { ...headers, ...sized });
  go();
  try {
    await pipeline(output, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      log.warn({ err, ...options.logContext }, 'zip stream failed');
    }
    if (storageFailed) {
      const unsent = recorded.filter((d) => !started.has(d.fileId));
      try {
        await options.release(unsent);
      } catch (releaseErr) {
        log.error({ err: releaseErr, ...options.logContext }, 'zip: counts not taken back');
      }
    }
  }
}

async function allStored(files: readonly FileRow[], services: Services): Promise<boolean> {
  let next = 0;
  let missing = false;
  const worker = async () => {
    while (!missing && next < files.length) {
      if (!(await services.files.stored(files[next++]!))) missing = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
  return !missing;
}
