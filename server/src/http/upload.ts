import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { processRequest } from 'graphql-upload-minimal';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import {
  ForbiddenError,
  PayloadTooLargeError,
  UnauthenticatedError,
  type AppError,
} from '../errors.js';
import type { Context, ServerContext } from '../graphql/context.js';
import { createYogaServer, type Yoga } from '../graphql/yoga.js';
import type { Viewer } from '../modules/auth/viewer.js';

// Multipart uploads (GraphQL multipart request spec) go to their own Yoga instance, built from the
// same schema: its body-size limit is off, because Yoga's limit wrapper (and its own multipart
// parser) read the whole body into memory. graphql-upload-minimal parses the raw Node request
// instead and hands the resolver the file part as a stream, which flows through a hash into
// storage; MAX_UPLOAD_BYTES is enforced on that stream (HashMeter in putTemp). See STACK.md.

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

/** How much of an unwanted body is still read (and dropped) after answering, and for how long. */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 2_000;

/**
 * Call once the response to a request is sent. When the client is still sending a body nobody
 * will read (a refused or failed upload), read and drop at most 1 MiB or 2 s of it, then close
 * the connection: a small body drains and the connection stays usable, a large one is cut off
 * instead of being read to its end. Lingering a little rather than closing at once lets the
 * client read our answer before its writes fail (as nginx's lingering_close).
 */
export function discardRestOfBody(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  const socket = req.socket;
  let dropped = 0;
  const close = () => socket.destroy();
  const timer = setTimeout(close, LINGER_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.unpipe();
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES) {
      done();
      close();
    }
  });
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

/** Hands Yoga the operation parsed by graphql-upload-minimal from the raw Node request. */
function uploadParser(): Plugin<ServerContext & Context> {
  return {
    onRequestParse({ serverContext, setRequestParser }) {
      // Yoga types the server context loosely here; app.ts always passes a ServerContext.
      const { req, res } = serverContext as unknown as ServerContext;
      setRequestParser(async () => {
        let operations: unknown;
        try {
          // No maxFileSize: busboy would end a file cut at the limit as if it were complete;
          // the size is enforced (with PAYLOAD_TOO_LARGE) while the file streams into storage.
          operations = await processRequest(req, res, {
            maxFieldSize: MAX_FIELD_BYTES,
            maxFiles: 1,
          });
        } catch (err) {
          throw multipartError(err);
        }
        if (Array.isArray(operations)) {
          throw new GraphQLError('Batched operations are not supported in uploads.', {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          });
        }
        return operations as GraphQLParams;
      });
    },
  };
}

function multipartError(err: unknown): GraphQLError {
  const status = (err as { status?: unknown } | null)?.status;
  const message = err instanceof Error ? err.message : 'Invalid multipart request.';
  if (status === 413) {
    return new GraphQLError(message, {
      extensions: { code: 'PAYLOAD_TOO_LARGE', http: { status: 413 } },
    });
  }
  return new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
  });
}

/** The Yoga instance for multipart requests (uploads). */
export function createUploadYoga(): Yoga {
  return createYogaServer({ maxRequestBodySize: false, plugins: [uploadParser()] });
}
