import type { ServerResponse } from 'node:http';
import type { AppError } from '../errors.js';

/** Answers with a GraphQL-shaped JSON error body, for refusals made before GraphQL runs. */
export function sendGraphQLError(res: ServerResponse, error: AppError): void {
  const body = JSON.stringify(
    { errors: [{ message: error.message, extensions: error.extensions() }] },
    (k, v) => (k === 'http' ? undefined : v),
  );
  if (!res.headersSent) {
    res.writeHead(error.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
  }
  res.end(body);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
