import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address.js';

const request = (socket: string, forwardedFor?: string) =>
  ({
    socket: { remoteAddress: socket },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it('uses the socket address unless proxies are trusted', () => {
    expect(clientAddress(request('10.0.0.5', '203.0.113.9'), 0)).toBe('10.0.0.5');
  });

  it('takes the entry the trusted proxy appended, not what the client wrote', () => {
    expect(clientAddress(request('10.0.0.5', '203.0.113.9'), 1)).toBe('203.0.113.9');
    // A client sending its own X-Forwarded-For: nginx appends the real address after it.
    expect(clientAddress(request('10.0.0.5', '1.1.1.1, 203.0.113.9'), 1)).toBe('203.0.113.9');
    // Two proxies (a load balancer, then nginx).
    expect(clientAddress(request('10.0.0.5', '1.1.1.1, 203.0.113.9, 10.0.0.2'), 2)).toBe(
      '203.0.113.9',
    );
  });

  it('falls back to the leftmost address when the chain is shorter than promised', () => {
    expect(clientAddress(request('10.0.0.5'), 1)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5', '203.0.113.9'), 3)).toBe('203.0.113.9');
  });
});
