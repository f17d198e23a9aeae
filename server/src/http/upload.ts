import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { AppError, ForbiddenError, PayloadTooLargeError, UnauthenticatedError } from '../errors.js';
import type { Context, ServerContext } from '../graphql/context.js';
import { createYogaServer, type Yoga } from '../graphql/yoga.js';
import type { Viewer } from '../modules/auth/viewer.js';
import type { FilesService } from '../modules/files/files.service.js';
import { parseMultipart } from './multipart.js';

// Multipart uploads (GraphQL multipart request spec) go to their own Yoga instance, built from the
// same schema: its body-size limit is off, because Yoga's limit wrapper (and its own multipart
// parser) read the whole body into memory. multipart.ts parses the raw Node request instead and
// hands the resolver the file part as a stream, which flows through a hash into
// storage; MAX_UPLOAD_BYTES is enforced on that stream (HashMeter in putTemp). Measured: with
// Yoga's limit on, a 1 GiB upload took ~15 s and ~1 GiB of memory; parsed this way, ~3 s and
// ~35 MiB.

/** operations and map are small JSON; the cap keeps a hostile field from filling memory. */
const MAX_FIELD_BYTES = 256 * 1024;
/** What a multipart body may carry besides the file: two fields plus boundaries and headers. */
export const MULTIPART_OVERHEAD_BYTES = 2 * MAX_FIELD_BYTES + 64 * 1024;

export const isMultipart = (req: IncomingMessage) =>
  /^multipart\/form-data\s*;/i.test(req.headers['content-type'] ?? '');

/**
 * Why an upload is refused before a byte of its body is read, or null: nobody signed in, an API
 * token without UPLOAD, or a declared Content-Length no allowed upload can reach.
 */
export function refuseUploadEarly(
  req: IncomingMessage,
  viewer: Viewer | null,
  maxUploadBytes: number,
): AppError | null {
  if (!viewer) return new UnauthenticatedError();
  if (viewer.kind === 'token' && !viewer.scopes.includes('UPLOAD')) {
    return new ForbiddenError('This API token may not upload files (it lacks the UPLOAD scope).');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxUploadBytes + MULTIPART_OVERHEAD_BYTES) {
    return new PayloadTooLargeError(maxUploadBytes);
  }
  return null;
}

/**
 * QUOTA_EXCEEDED before a byte of the body is read when the declared Content-Length, less what a
 * multipart body carries besides the file, would take the uploader past their quota; else null
 * (the quota is enforced again while the file streams and when it commits).
 */
export async function refuseOverQuota(
  req: IncomingMessage,
  viewer: Viewer,
  files: Pick<FilesService, 'quotaRefusal'>,
): Promise<AppError | null> {
  const declared = Number(req.headers['content-length']);
  if (!Number.isFinite(declared) || declared <= MULTIPART_OVERHEAD_BYTES) return null;
  return files.quotaRefusal(viewer, declared - MULTIPART_OVERHEAD_BYTES);
}

/** Hands Yoga the operation parsed from the raw Node request (multipart.ts). */
function uploadParser(): Plugin<ServerContext & Context> {
  return {
    onRequestParse({ serverContext, setRequestParser }) {
      // Yoga types the server context loosely here; app.ts always passes a ServerContext.
      const { req, context } = serverContext as unknown as ServerContext;
      setRequestParser(async () => {
        try {
          // No file size limit here: busboy would end a file cut at the limit as if it were
          // complete; the size is enforced (PAYLOAD_TOO_LARGE) while the file streams into storage.
          return (await parseMultipart(req, {
            maxFieldBytes: MAX_FIELD_BYTES,
            onCancel: () => context.log.info('upload cancelled by the client'),
          })) as GraphQLParams;
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          // Thrown before execution, so Yoga answers it as a request error with this status.
          throw new GraphQLError(err.message, {
            extensions: { ...err.extensions(), http: { status: err.status } },
          });
        }
      });
    },
  };
}

/** The Yoga instance for multipart requests (uploads). */
export function createUploadYoga(options: { corsOrigins: readonly string[] }): Yoga {
  return createYogaServer({
    maxRequestBodySize: false,
    corsOrigins: options.corsOrigins,
    plugins: [uploadParser()],
  });
}
