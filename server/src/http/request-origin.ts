import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The origin people reach this server at: PUBLIC_ORIGIN when set, else the one the client asked
 * for (through a trusted proxy: what it forwarded). Share links, password-reset links and single
 * sign-on's redirect URI are built on it: they are copied and opened elsewhere, so they must be
 * absolute, and right for the people who will open them.
 */
export function requestOrigin(
  req: IncomingMessage,
  options: { publicOrigin: URL | null; trustProxy: number },
): string {
  if (options.publicOrigin) return options.publicOrigin.origin;
  const first = (v: string | string[] | undefined) =>
    (Array.isArray(v) ? v[0] : v)?.split(',')[0]?.trim() || undefined;
  const proxied = options.trustProxy > 0;
  const proto =
    (proxied ? first(req.headers['x-forwarded-proto']) : undefined) ??
    ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  const host =
    (proxied ? first(req.headers['x-forwarded-host']) : undefined) ??
    req.headers.host ??
    'localhost';
  // Nothing but a scheme and a host may come out of the headers.
  const safeProto = proto === 'https' ? 'https' : 'http';
  return /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? `${safeProto}://${host}` : `${safeProto}://localhost`;
}
