import type { IncomingMessage } from 'node:http';

/**
 * The origin people reach this server at: PUBLIC_ORIGIN when set, else the scheme and Host of the
 * request (the forwarded ones behind a trusted proxy). Single sign-on's redirect URI and the
 * password-reset links are built on it.
 */
export function externalOrigin(
  req: IncomingMessage,
  options: { publicOrigin: URL | null; trustProxy: number },
): string {
  if (options.publicOrigin) return options.publicOrigin.origin;
  const first = (v: string | string[] | undefined) =>
    (typeof v === 'string' ? v.split(',')[0]!.trim() : '') || undefined;
  const proxied = options.trustProxy > 0;
  const host =
    (proxied ? first(req.headers['x-forwarded-host']) : undefined) ??
    req.headers.host ??
    'localhost';
  const proto = (proxied ? first(req.headers['x-forwarded-proto']) : undefined) ?? 'http';
  const origin = `${proto === 'https' ? 'https' : 'http'}://${host}`;
  try {
    return new URL(origin).origin;
  } catch {
    return 'http://localhost';
  }
}
