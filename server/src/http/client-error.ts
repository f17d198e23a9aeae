import http, { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../errors.js';

/**
 * Requests Node's HTTP parser refuses before the app sees them. Without a listener Node answers
 * with a bare status line and no body (431 for headers over `http.maxHeaderSize`, 16 KiB; 408 when
 * they do not arrive within HEADERS_TIMEOUT_SECONDS; 400 for anything malformed): the one
 * answer of the server without a code. These carry the JSON error body of every other route.
 */
function answerFor(err: NodeJS.ErrnoException): {
  status: number;
  code: ErrorCode;
  message: string;
} {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'PAYLOAD_TOO_LARGE',
        message: `The request line and headers are larger than ${http.maxHeaderSize} bytes.`,
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'BAD_USER_INPUT',
        message: 'The request headers did not arrive in time.',
      };
    default:
      return { status: 400, code: 'BAD_USER_INPUT', message: 'The HTTP request is malformed.' };
  }
}

/** `clientError` listener of the HTTP server: a coded answer, then the connection closes. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already under way on this keep-alive connection (Node's own handler checks the
  // same private field): bytes of ours would land inside it, so the connection is only cut.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  // Ended rather than destroyed, so a client still sending gets to read the answer; one that
  // never closes its side is cut by the server's idle timeout (IDLE_TIMEOUT_SECONDS).
  const { status, code, message } = answerFor(err);
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
