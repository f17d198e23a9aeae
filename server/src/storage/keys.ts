import { randomBytes } from 'node:crypto';

/**
 * A key that no driver accepts. Callers only ever pass SHA-256 values read from the database and
 * temp keys the driver handed out, so meeting one means a bug or an attack: it is deliberately not
 * an AppError, and is masked as an internal error if it reaches a client.
 */
export class InvalidStorageKeyError extends Error {
  constructor(kind: 'blob' | 'temp', key: unknown) {
    // The key is shown through JSON.stringify so control characters cannot forge log lines.
    super(`Invalid ${kind} key ${JSON.stringify(String(key)).slice(0, 100)}`);
    this.name = 'InvalidStorageKeyError';
  }
}

const BLOB_KEY = /^[0-9a-f]{64}$/;
const TEMP_KEY = /^[0-9a-f]{32}$/;

/** Throws unless `key` is a lower-case hex SHA-256, the only shape a committed key may take. */
export function assertBlobKey(key: string): void {
  if (typeof key !== 'string' || !BLOB_KEY.test(key)) throw new InvalidStorageKeyError('blob', key);
}

/** Throws unless `key` has the shape `newTempKey` produces. */
export function assertTempKey(key: string): void {
  if (typeof key !== 'string' || !TEMP_KEY.test(key)) throw new InvalidStorageKeyError('temp', key);
}

export function isTempKey(key: string): boolean {
  return TEMP_KEY.test(key);
}

/** 128 random bits: temp keys of concurrent uploads never collide, and are not guessable. */
export function newTempKey(): string {
  return randomBytes(16).toString('hex');
}
