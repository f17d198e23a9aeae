import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { Upload, type FileUpload } from 'graphql-upload-minimal';
import type { StreamedUpload } from '../modules/files/files.service.js';
import {
  AppError,
  BadUserInputError,
  PayloadTooLargeError,
  UploadCancelledError,
} from '../errors.js';

// The GraphQL multipart request spec (operations, map, files), parsed from the raw Node request
// with busboy. graphql-upload-minimal's own processRequest is not used: it listens once for the
// parser's 'error', then destroys the parser, whose second error ("Unexpected end of form") had
// no listener left and took the whole process down. Here every stream keeps an error listener for
// its whole life, every failure becomes one coded error, and the request is never read further
// once it failed (app.ts lingers and closes the connection). Its Upload class and scalar are kept.

export interface MultipartLimits {
  /** Largest `operations` or `map` field, in bytes (PAYLOAD_TOO_LARGE past it). */
  maxFieldBytes: number;
  /** Called once when the client goes away before its body arrived (an ordinary event). */
  onCancel?: () => void;
}

/** The Upload class as it is at run time: its typings leave out how the parser settles it. */
type UploadSlot = Upload & {
  resolve(file: FileUpload): void;
  reject(error: Error): void;
};

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor']);

const invalid = (message: string) => BadUserInputError.field('multipart', message);

/**
 * Reads the `operations` and `map` fields of a multipart request and resolves to the operation,
 * with its one file variable set to an `Upload` whose file streams as the body arrives. Rejects
 * with BAD_USER_INPUT (malformed body, misordered or missing fields, a file mapped twice, a body
 * cut short), PAYLOAD_TOO_LARGE (a field over the limit) or UploadCancelledError. A failure after
 * the operation resolved destroys the file's stream with the same error, so the resolver that
 * reads it fails, and its temp object is removed.
 */
export function parseMultipart(req: IncomingMessage, limits: MultipartLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: {
          fieldSize: limits.maxFieldBytes,
          fields: 2,
          files: 1,
          // Reaching it is no error (busboy emits partsLimit after the third part); parts past it
          // are skipped unread into memory.
          parts: 3,
          // A part needs Content-Disposition and Content-Type; a few more are harmless.
          headerPairs: 8,
        },
      });
    } catch (err) {
      // busboy throws synchronously on a missing or unsupported boundary.
      reject(invalid(err instanceof Error ? err.message : 'malformed multipart request'));
      return;
    }

    let failure: Error | null = null;
    let operations: Record<string, unknown> | null = null;
    let upload: UploadSlot | null = null;
    let uploadField: string | null = null;
    // Every part's file stream not yet read to its end, the mapped one and any skipped: a request
    // that fails or goes away destroys them with its error, so no reader waits for bytes that
    // will never come (busboy leaves a part's stream open when its parser stops mid-part).
    const openParts = new Set<Readable>();
    let settled = false;
    // Settles when the whole HTTP body has arrived, or fails with the request: a file is kept
    // only once its request completed (a body cut after the final boundary is still cut off).
    let bodyFailed: (error: Error) => void = () => undefined;
    const bodyComplete = new Promise<void>((resolve, reject) => {
      bodyFailed = reject;
      req.once('end', () => resolve());
    });
    bodyComplete.catch(() => undefined);

    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      if (!settled) {
        settled = true;
        reject(error);
      }
      bodyFailed(error);
      if (upload && !upload.file) upload.reject(error);
      for (const stream of openParts) stream.destroy(error);
      openParts.clear();
      req.unpipe(parser);
      // Whatever busboy still emits (its own "Unexpected end of form" while being destroyed) lands
      // on the permanent listener below and is ignored: the first failure is the answer.
      parser.destroy();
    };

    // Never removed: a parser without an error listener would crash the process.
    parser.on('error', (err: unknown) =>
      fail(invalid(err instanceof Error ? err.message : String(err))),
    );
    parser.on('fieldsLimit', () => fail(invalid('only the operations and map fields are allowed')));
    parser.on('filesLimit', () => fail(invalid('one file per request')));

    parser.on('field', (name, value, info) => {
      if (failure) return;
      if (info.valueTruncated) {
        fail(new PayloadTooLargeError(limits.maxFieldBytes, `The '${name}' field is too large.`));
        return;
      }
      if (name === 'operations') {
        if (operations) return fail(invalid("the 'operations' field was sent twice"));
        const parsed = parseJson(value);
        if (Array.isArray(parsed)) {
          return fail(invalid('batched operations are not supported in uploads'));
        }
        if (!isPlainObject(parsed)) return fail(invalid("'operations' must be a JSON object"));
        operations = parsed;
      } else if (name === 'map') {
        if (!operations) return fail(invalid("'map' must follow 'operations'"));
        if (upload) return fail(invalid("the 'map' field was sent twice"));
        const map = parseJson(value);
        if (!isPlainObject(map)) return fail(invalid("'map' must be a JSON object"));
        const entries = Object.entries(map);
        if (entries.length !== 1) return fail(invalid("'map' must name exactly one file"));
        const [field, paths] = entries[0]!;
        // The spec lets one file fill several variables; its stream can be read once only, so
        // the second use would fail after the first had committed. Refused before anything runs.
        if (!Array.isArray(paths) || paths.length !== 1 || typeof paths[0] !== 'string') {
          return fail(invalid('a file must be mapped to exactly one variable'));
        }
        const slot = new Upload() as UploadSlot;
        if (!placeUpload(operations, paths[0], slot)) {
          return fail(invalid(`'map' names no variable at ${JSON.stringify(paths[0])}`));
        }
        upload = slot;
        uploadField = field;
        resolve(operations);
        settled = true;
      } else {
        fail(invalid(`unexpected field ${JSON.stringify(name.slice(0, 40))}`));
      }
    });

    parser.on('file', (name, stream, info) => {
      // A stream nobody reads still needs a listener, or its error would crash the process.
      // busboy's own errors here mean a malformed or cut-off body; marked as the client's fault
      // (status 400) before the reader's listeners see them (files.service maps the status).
      stream.on('error', (err: Error & { status?: number }) => {
        if (!(err instanceof AppError)) err.status ??= 400;
      });
      if (failure) return void stream.destroy(failure);
      openParts.add(stream);
      stream.once('close', () => openParts.delete(stream));
      if (!upload || name !== uploadField) {
        stream.resume();
        return fail(
          invalid(upload ? 'the file part is not in the map' : "files must follow 'map'"),
        );
      }
      let handedOut = false;
      upload.resolve({
        fieldName: name,
        filename: info.filename,
        mimetype: info.mimeType,
        encoding: info.encoding,
        createReadStream() {
          if (failure) throw failure;
          if (handedOut) throw invalid('the file can be read once only');
          handedOut = true;
          return stream;
        },
        requestComplete: () => bodyComplete,
      } as StreamedUpload);
    });

    parser.on('close', () => {
      if (failure) return;
      if (!operations) return fail(invalid("missing 'operations' field"));
      if (!upload) return fail(invalid("missing 'map' field"));
      if (!upload.file) fail(invalid('the file named in the map is missing'));
    });

    // Node reports a client that went away as an 'aborted' error, then 'close'; either ends every
    // part still open. A request whose body was read to its end is not cut: its parts end as
    // parsed. `req.complete` is no test of that: it says the HTTP parser saw the whole body, yet
    // bytes of it may still wait in the request stream (the file's reader applying backpressure)
    // when the connection drops, and a destroyed request never delivers them: the parser and the
    // file's stream would wait for them forever, and the upload with its temp file.
    const cancel = () => {
      if (failure || req.readableEnded) return;
      limits.onCancel?.();
      fail(new UploadCancelledError());
    };
    req.on('error', cancel);
    req.on('close', cancel);
    req.pipe(parser);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Puts the upload at a path like `variables.file` or `variables.files.0`: only inside
 * `variables`, only where the operation holds a null placeholder, never through a prototype key.
 */
function placeUpload(operations: Record<string, unknown>, path: string, value: Upload): boolean {
  const segments = path.split('.');
  if (segments[0] !== 'variables' || segments.length < 2 || segments.length > 8) return false;
  let target: unknown = operations;
  for (const [i, segment] of segments.entries()) {
    if (FORBIDDEN_SEGMENTS.has(segment)) return false;
    if (!isPlainObject(target) && !Array.isArray(target)) return false;
    const container = target as Record<string, unknown>;
    if (!Object.hasOwn(container, segment)) return false;
    if (i === segments.length - 1) {
      if (container[segment] !== null) return false;
      container[segment] = value;
      return true;
    }
    target = container[segment];
  }
  return false;
}
