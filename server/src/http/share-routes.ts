import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { FileRow } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PROOF_COOKIE, type OpenShare } from '../modules/shares/shares.service.js';
import type { Services } from '../services.js';
import { contentDisposition, refuse, serveFile } from './download.js';
import { serveThumbnail, thumbnailSize } from './preview.js';
import { sendText } from './respond.js';

// The routes of share links (docs/api.md, "Share links"): one file's bytes, exactly as the
// download route serves them, its thumbnail exactly as the thumbnail route serves it, and every
// file of the link as one ZIP streamed while it is read.
// No account: the link's token is the credential, and for a link with a password, a proof
// (`key=` or the link's cookie) from `share(token, password)`.

// yazl checksums every entry with buffer-crc32, a byte-at-a-time JavaScript loop: ~60 MiB/s here,
// which capped a ZIP at under half the download route's speed. Node's own zlib.crc32 (native,
// same function, same results) does several GiB/s, so yazl's copy of buffer-crc32 is pointed at
// it. The ZIP test checks every entry's CRC against a separate implementation.
const yazlRequire = createRequire(createRequire(import.meta.url).resolve('yazl'));
(yazlRequire('buffer-crc32') as { unsigned: (buf: Buffer, previous?: number) => number }).unsigned =
  (buf, previous = 0) => zlib.crc32(buf, previous);

export const SHARE_ROUTE = /^\/s\/([^/]+)\/(?:files\/([^/]+)\/(download|thumbnail)|(zip))$/;

const NO_SUCH_FILE = 'No such file in this link.';

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

export async function handleShareRoute(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  match: RegExpExecArray,
  services: Services,
  log: Logger,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendText(res, 405, 'Method not allowed', { allow: 'GET, HEAD' });
  }
  const token = match[1]!;
  // A browser that meets a refusal goes to the share page, which says what is wrong in words.
  const page = `/s/${encodeURIComponent(token)}`;
  const turnAway = (status: number, text: string) => refuse(req, res, status, text, {}, page);
  // A bad size is refused before the token is even looked at, as `/files/:id/thumbnail` does.
  const size = match[3] === 'thumbnail' ? thumbnailSize(res, url) : null;
  if (match[3] === 'thumbnail' && size === null) return;
  const proof = url.searchParams.get('key') ?? readCookie(req.headers.cookie, PROOF_COOKIE);
  const opened = await services.shares.openForDownload(token, proof);
  if (!('link' in opened)) return turnAway(opened.status, opened.message);

  if (match[4]) return sendZip(req, res, opened, services, log, turnAway);

  const rawId = match[2]!;
  const id = /^[1-9]\d{0,15}$/.test(rawId) ? Number(rawId) : null;
  const file = opened.files.find((f) => f.id === id);
  if (!file) return turnAway(404, NO_SUCH_FILE);
  // Never a download: nothing is recorded, and the link's limit is not touched.
  if (size !== null) return serveThumbnail(req, res, file, size, services, turnAway);
  await serveFile(req, res, file, {
    services,
    log,
    record: async () =>
      (await services.shares.recordDownloads(opened.link.id, [file.id]))
        ? null
        : new NotFoundError('This link does not work (any more).'),
    refuse: turnAway,
  });
}

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

/**
 * Every file of the link as one ZIP, stored (not compressed: most files worth sharing are
 * compressed already, and deflate would cap the speed at the CPU's). yazl writes each entry while
 * its blob is read, opening one blob at a time, with UTF-8 names (the language encoding flag) and
 * ZIP64 where sizes need it; no temp file. Every blob is checked to exist first. The downloads
 * (one per file) are counted before the first byte goes out, all or none: a link with fewer
 * downloads left than files refuses the ZIP. Those of files storage then fails to give (a blob
 * gone between the check and its read) are taken back.
 */
async function sendZip(
  req: IncomingMessage,
  res: ServerResponse,
  opened: OpenShare,
  services: Services,
  log: Logger,
  turnAway: (status: number, text: string) => void,
): Promise<void> {
  const { files } = opened;
  // Every blob is checked before anything is counted or sent: one gone from storage is a clean
  // 404 with nothing recorded, not a ZIP cut off after some files were counted. (One that goes
  // in between still cuts the stream, below, and its count is taken back.) A few at a time: on
  // S3 each is a request.
  if (!(await allStored(files, services))) {
    log.warn({ linkId: opened.link.id }, 'share zip: a blob is missing from storage');
    return turnAway(404, 'A file of this link cannot be read now.');
  }
  const headers = {
    'content-type': 'application/zip',
    'content-disposition': contentDisposition('shared-files.zip'),
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
  const names = zipEntryNames(files.map((f) => f.name));
  // The files whose bytes began to go out: each is a download, as a GET from byte 0 is, even if
  // its stream breaks later. yazl opens one entry at a time, in order.
  const started = new Set<number>();
  files.forEach((file, i) => {
    zip.addReadStreamLazy(
      names[i]!,
      { size: file.size, mtime: new Date(file.updated_at), compress: false },
      (done) => {
        services.files.read(file).then(
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
  const recorded = await services.shares.recordDownloads(
    opened.link.id,
    files.map((f) => f.id),
  );
  if (!recorded) {
    return turnAway(404, 'This link has fewer downloads left than it has files.');
  }
  res.writeHead(200, { ...headers, ...sized });
  try {
    await pipeline(output, res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      log.warn({ err, linkId: opened.link.id }, 'share zip stream failed');
    }
    // A blob that went from storage after the check above (deleted, or a store failing) stops
    // the ZIP at that file: it and the files after it were counted but never sent, so their
    // downloads are taken back (the link's limit gets them back too). A client that goes away
    // mid-way keeps its count, as a download from byte 0 does.
    if (storageFailed) {
      const unsent = recorded.filter((d) => !started.has(d.fileId));
      try {
        await services.shares.releaseDownloads(opened.link.id, unsent);
      } catch (releaseErr) {
        log.error({ err: releaseErr, linkId: opened.link.id }, 'share zip: counts not taken back');
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
