import type { IncomingMessage } from 'node:http';
import { SESSION_COOKIE } from '../modules/auth/sessions.js';

export interface Credentials {
  token: string;
  /** Came from the session cookie (so the request needs CSRF protection), not a Bearer header. */
  viaCookie: boolean;
}

/** The token a request carries: `Authorization: Bearer` first, then the session cookie. */
export function readCredentials(req: IncomingMessage): Credentials | null {
  const auth = req.headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? { token: match[1]!, viaCookie: false } : null;
  }
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie ? { token: cookie, viaCookie: true } : null;
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value || null;
    }
  }
  return null;
}

/**
 * CSRF rule of API.md: a cookie-authenticated request must prove it came from our own scripts,
 * either with `x-requested-with` (a header a cross-site form cannot set) or a JSON content type
 * (which a cross-site request can only send after a CORS preflight we never grant).
 */
export function passesCsrfCheck(req: IncomingMessage): boolean {
  if (req.headers['x-requested-with']) return true;
  const type = req.headers['content-type'] ?? '';
  return /^application\/(graphql-response\+)?json\b/i.test(type);
}
