import { createHash } from 'node:crypto';

/**
 * What the database keeps of a secret token (a session's or an API token's): its SHA-256, so a
 * leaked database cannot be replayed as credentials. Tokens carry 256 random bits, so a plain
 * hash (no salt, no stretching) is enough and lets a request find its row by index.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
