import { DetailedError, Upload } from 'tus-js-client';
import { CSRF_HEADERS } from '$lib/graphql/client';
import { describe, fromWireErrors, type AppError } from '$lib/graphql/errors';

/**
 * The web app's side of `/uploads` (tus 1.0.0, docs/api.md): every file goes through it, so an
 * upload survives a dropped connection, a pause and a page reload.
 */

/** Used when the server does not say (an older server, or OPTIONS failed). */
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024;
/** Retries after a lost connection or a 409 (another request still held the upload). */
const RETRY_DELAYS = [0, 1000, 3000, 6000];

let chunkBytes: Promise<number> | null = null;

/**
 * The request size the server asks for (`Cabinet-Chunk-Size` on `OPTIONS /uploads`, set by the
 * operator with UPLOAD_CHUNK_BYTES), so uploads pass a proxy that limits request bodies.
 */
export function chunkSize(): Promise<number> {
  chunkBytes ??= fetch('/uploads', { method: 'OPTIONS' })
    .then((res) => {
      const n = Number(res.headers.get('cabinet-chunk-size'));
      return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_CHUNK_BYTES;
    })
    .catch(() => {
      // Ask again next time: the server may only have been unreachable for a moment.
      chunkBytes = null;
      return DEFAULT_CHUNK_BYTES;
    });
  return chunkBytes;
}

export interface TusMeta {
  /** The original file name. */
  filename: string;
  /** The name the file gets (default: filename). */
  name?: string;
  /** undefined: the server gives the type tag; []: no tags. */
  tags?: string[];
  /** Admins only. */
  status?: 'ACTIVE' | 'HIDDEN';
}

export interface TusCallbacks {
  /** The upload exists on the server at this URL (`/uploads/<id>`): remember it to resume. */
  onUrl(url: string): void;
  /** Bytes of the FILE stored or on their way, out of its size. */
  onProgress(loaded: number, total: number): void;
  onSuccess(fileId: string | null): void;
  onError(error: AppError): void;
}

export interface TusUpload {
  /** Stops sending; what the server stored stays there for a later resume. */
  pause(): void;
}

/**
 * Starts (or, with `resumeUrl`, continues from the server's offset) one upload. Callbacks are
 * never called after `pause()`.
 */
export async function startTus(
  file: File,
  meta: TusMeta,
  resumeUrl: string | undefined,
  callbacks: TusCallbacks,
): Promise<TusUpload> {
  const metadata: Record<string, string> = { filename: meta.filename };
  if (meta.name !== undefined) metadata.name = meta.name;
  if (meta.tags !== undefined) metadata.tags = meta.tags.join(',');
  if (meta.status !== undefined) metadata.status = meta.status;
  const size = await chunkSize();
  const upload: Upload = new Upload(file, {
    endpoint: new URL('/uploads', location.href).href,
    uploadUrl: resumeUrl ?? null,
    chunkSize: size,
    retryDelays: RETRY_DELAYS,
    headers: { ...CSRF_HEADERS },
    metadata,
    // The queue keeps its own record (with names and tags) of what may be resumed.
    storeFingerprintForResuming: false,
    onUploadUrlAvailable: () => {
      if (upload.url) callbacks.onUrl(upload.url);
    },
    onProgress: (loaded, total) => callbacks.onProgress(loaded, total),
    onSuccess: ({ lastResponse }) => {
      const id = lastResponse.getHeader('cabinet-file-id');
      callbacks.onSuccess(id || null);
    },
    onError: (error) => callbacks.onError(errorOf(error)),
  });
  upload.start();
  return { pause: () => void upload.abort(false) };
}

/**
 * Ends an upload on the server and removes its bytes (tus termination). A request that was just
 * aborted may still hold the upload for a moment (409): ask again a few times.
 */
export async function terminate(url: string): Promise<boolean> {
  for (const delay of [0, 250, 750, 1500, 3000]) {
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      const res = await fetch(url, {
        method: 'DELETE',
        headers: { 'tus-resumable': '1.0.0', ...CSRF_HEADERS },
      });
      // 404: expired, already ended, or never finished creating: nothing left either way.
      if (res.status === 204 || res.status === 404) return true;
      if (res.status !== 409) return false;
    } catch {
      // Unreachable for now: try again.
    }
  }
  return false;
}

/**
 * How many bytes the server holds of an upload: a number, `null` when it is gone (expired,
 * ended, someone else's), `undefined` when the server could not be asked.
 */
export async function storedBytes(url: string): Promise<number | null | undefined> {
  try {
    const res = await fetch(url, { method: 'HEAD', headers: { 'tus-resumable': '1.0.0' } });
    if (res.status === 404 || res.status === 403) return null;
    const offset = Number(res.headers.get('upload-offset'));
    return res.ok && Number.isSafeInteger(offset) ? offset : undefined;
  } catch {
    return undefined;
  }
}

/** A tus-js-client error in the app's words: the server's JSON error when it sent one. */
function errorOf(error: Error | DetailedError): AppError {
  const res = error instanceof DetailedError ? error.originalResponse : null;
  if (!res) {
    return {
      code: 'NETWORK',
      message: 'The connection was lost during the upload. Try again.',
      fields: {},
    };
  }
  const status = res.getStatus();
  try {
    const json = JSON.parse(res.getBody() ?? '') as { errors?: unknown };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      const appError = fromWireErrors(json.errors);
      // A field message ("Name cannot contain…") says more than "check the fields".
      const field = Object.values(appError.fields)[0];
      return field ? { ...appError, message: field } : appError;
    }
  } catch {
    // Not JSON (a proxy's own page): fall back on the status.
  }
  const code: AppError['code'] =
    status === 413
      ? 'PAYLOAD_TOO_LARGE'
      : status === 401
        ? 'UNAUTHENTICATED'
        : status === 403
          ? 'FORBIDDEN'
          : status === 404
            ? 'NOT_FOUND'
            : 'INTERNAL_SERVER_ERROR';
  return { code, message: describe(code, undefined), fields: {} };
}
