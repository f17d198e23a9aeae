import type { IncomingMessage } from 'node:http';

/**
 * The caller's address, for per-address rate limits. Behind `trustedProxies` reverse proxies
 * (TRUST_PROXY), each proxy appends the address it received from to X-Forwarded-For, so the
 * client is that many entries from the right of the chain (header entries, then the socket);
 * anything further left was written by the client and is not trusted. Without proxies, the
 * socket's address: every request through a proxy would otherwise share the proxy's address and
 * its limit.
 */
export function clientAddress(req: IncomingMessage, trustedProxies: number): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (trustedProxies === 0) return socket;
  const header = req.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, socket];
  return chain[Math.max(0, chain.length - 1 - trustedProxies)]!;
}
