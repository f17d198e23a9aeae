import { createHash, randomInt } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

// TOTP per RFC 6238 through otpauth: SHA-1, 6 digits, 30-second steps, as every authenticator
// app expects. A code is accepted one step either side of now (clock drift), and only once.

const ISSUER = 'Cabinet';
const PERIOD = 30;

export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

const totpFor = (secret: string, label = '') =>
  new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });

/** The otpauth:// URI an authenticator app reads from the QR code. */
export const totpUri = (secret: string, email: string): string => totpFor(secret, email).toString();

/**
 * The time step a code belongs to when it is right for `secret` (now, or one step off), else null.
 * Only six digits are tried; anything else is no TOTP code.
 */
export function totpStep(secret: string, code: string, now = Date.now()): number | null {
  const digits = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(digits)) return null;
  const totp = totpFor(secret);
  const delta = totp.validate({ token: digits, timestamp: now, window: 1 });
  if (delta === null) return null;
  return totp.counter({ timestamp: now }) + delta;
}

/** The code an authenticator shows for `secret` at `time` (tests and the CLI only). */
export const totpCode = (secret: string, time = Date.now()): string =>
  totpFor(secret).generate({ timestamp: time });

// Recovery codes: 10 characters from an alphabet without look-alikes, shown as xxxxx-xxxxx.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** The stored form of a recovery code: case, spaces and dashes do not matter when typing it. */
export const hashRecoveryCode = (code: string): string =>
  createHash('sha256')
    .update(code.toLowerCase().replace(/[^a-z0-9]/g, ''))
    .digest('hex');
