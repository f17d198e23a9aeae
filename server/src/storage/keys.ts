import { randomBytes } from 'node:crypto';

/**
 * A key that no driver accepts. Callers only ever pass SHA-256 values read from the database and
 * temp keys the driver handed out, so meeting one means a bug or an attack: it is deliberately not
 * an AppError, and is masked as an internal error if it reaches a client.
 */
export class InvalidStorageKeyError extends Error {
  constructor(kind: 'blob' | 'temp' | 'instance' | 'derived', key: unknown) {
    // The key is shown through JSON.stringify so control characters cannot forge log lines.
    super(`Invalid ${kind} key ${JSON.stringify(String(key)).slice(0, 100)}`);
    this.name = 'InvalidStorageKeyError';
  }
}

const BLOB_KEY = /^[0-9a-f]{64}$/;
const INSTANCE_ID = /^[0-9a-f]{16}$/;
// `<instance>-<random>`: whoever finds the object after a crash can tell whose upload it was.
const TEMP_KEY = /^([0-9a-f]{16})-[0-9a-f]{32}$/;
// Temp keys written before instances had leases; only their age tells whether they are stale.
const LEGACY_TEMP_KEY = /^[0-9a-f]{32}$/;

/** Throws unless `key` is a lower-case hex SHA-256, the only shape a committed key may take. */
export function assertBlobKey(key: string): void {
  if (typeof key !== 'string' || !BLOB_KEY.test(key)) throw new InvalidStorageKeyError('blob', key);
}

export function isBlobKey(key: string): boolean {
  return BLOB_KEY.test(key);
}

// `<sha256>-<size>-<variant>`: the blob's bytes and what was made of them (storage.ts, putDerived).
const DERIVED_KEY = /^[0-9a-f]{64}-(0|[1-9]\d{0,15})-[a-z0-9]{1,32}$/;
const VARIANT = /^[a-z0-9]{1,32}$/;

/** The key of a derived object of the blob `sha256` of `size` bytes, e.g. variant `thumb256`. */
export function derivedKey(sha256: string, size: number, variant: string): string {
  assertBlobKey(sha256);
  if (!Number.isSafeInteger(size) || size < 0) throw new InvalidStorageKeyError('derived', size);
  if (!VARIANT.test(variant)) throw new InvalidStorageKeyError('derived', variant);
  return `${sha256}-${size}-${variant}`;
}

/** Throws unless `key` has the shape `derivedKey` produces. */
export function assertDerivedKey(key: string): void {
  if (typeof key !== 'string' || !DERIVED_KEY.test(key)) {
    throw new InvalidStorageKeyError('derived', key);
  }
}

/** Throws unless `key` has the shape `newTempKey` produces (or produced before leases). */
export function assertTempKey(key: string): void {
  if (!isTempKey(key)) throw new InvalidStorageKeyError('temp', key);
}

export function isTempKey(key: string): boolean {
  return typeof key === 'string' && (TEMP_KEY.test(key) || LEGACY_TEMP_KEY.test(key));
}

/** The instance that created the temp object, or null for a key of the old shape. */
export function tempKeyInstance(key: string): string | null {
  return TEMP_KEY.exec(key)?.[1] ?? null;
}

/** Throws unless `id` has the shape `newInstanceId` produces. */
function assertInstanceId(id: string): void {
  if (typeof id !== 'string' || !INSTANCE_ID.test(id)) {
    throw new InvalidStorageKeyError('instance', id);
  }
}

/** 64 random bits naming one run of a server process (its lease, its temp objects). */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * 128 random bits after the instance id: temp keys of concurrent uploads never collide, and are
 * not guessable. Without an instance (tools that write outside a server) the key has the old shape.
 */
export function newTempKey(instance: string | null = null): string {
  const random = randomBytes(16).toString('hex');
  if (instance === null) return random;
  assertInstanceId(instance);
  return `${instance}-${random}`;
}
