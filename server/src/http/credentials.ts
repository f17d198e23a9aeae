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

export function readCookie(header: string | undefined, name: string): string | null {
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
 * The CSRF rule: a POST without a Bearer token, signed in by cookie or not at all, must prove it
 * came from a script, either with `x-requested-with` (a header a cross-site form cannot set) or a
 * JSON content type (which a cross-site page can only send after a CORS preflight, granted only to
 * CORS_ORIGINS, whose requests never count their cookies). Anonymous requests too: otherwise a
 * cross-site form could sign a victim into the attacker's account (login CSRF).
 */
export function passesCsrfCheck(req: IncomingMessage): boolean {
  if (req.headers['x-requested-with']) return true;
  const type = req.headers['content-type'] ?? '';
  return /^application\/(graphql-response\+)?json\b/i.test(type);
}

/**
 * Whether the request comes from a page of another origin: its `Origin` header names a host other
 * than ours (PUBLIC_ORIGIN when set, else the Host the client asked for, or the one the trusted
 * proxy forwarded). Such a request may use a Bearer token but never the cookie, so another port or
 * a sibling subdomain cannot act with a signed-in person's session.
 */
export function isCrossOrigin(
  req: IncomingMessage,
  options: { publicOrigin: URL | null; trustProxy: number },
): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  let from: URL;
  try {
    from = new URL(origin);
  } catch {
    return true; // "null" (sandboxed frames, file://) and garbage are foreign by definition
  }
  if (options.publicOrigin) return from.origin !== options.publicOrigin.origin;
  const forwarded = options.trustProxy > 0 ? req.headers['x-forwarded-host'] : undefined;
  const host =
    (typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : '') || req.headers.host;
  return !host || from.host.toLowerCase() !== host.toLowerCase();
}
