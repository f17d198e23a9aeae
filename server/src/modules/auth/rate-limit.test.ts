import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { openDatabase, type Connection } from '../../db/connection.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createPostgresDatabase } from '../../../test/harness.js';
import { databaseLimiters, memoryLimiters, type LimiterFactory } from './rate-limit.js';

// The limiter contract, on memory and on the table (SQLite here, PostgreSQL when the suite runs
// with TEST_DATABASE_URL): the same windows, and no lost increments under concurrency.

let connection: Connection;
let dropDatabase: (() => Promise<void>) | undefined;
let now = 1_000_000_000_000;
const clock = () => now;

beforeAll(async () => {
  const pg = await createPostgresDatabase();
  dropDatabase = pg?.drop;
  const config = loadConfig({ DATABASE_URL: pg?.url ?? 'sqlite::memory:', WEB_DIR: '' });
  connection = openDatabase(config.database);
  await migrateToLatest(connection.db);
});

afterAll(async () => {
  await connection?.close();
  await dropDatabase?.();
});

const kinds: [string, () => LimiterFactory][] = [
  ['memory', () => memoryLimiters],
  ['database', () => databaseLimiters(connection.db, clock)],
];

describe.each(kinds)('%s limiter', (kind, factory) => {
  it('counts points in a fixed window per key', async () => {
    const limiter = factory()({ keyPrefix: `count_${kind}`, duration: 60 });
    expect(await limiter.get('a')).toBeNull();
    expect((await limiter.add('a')).points).toBe(1);
    const second = await limiter.add('a', 2);
    expect(second.points).toBe(3);
    expect(second.msLeft).toBeGreaterThan(55_000);
    expect(second.msLeft).toBeLessThanOrEqual(60_000);
    expect((await limiter.get('a'))?.points).toBe(3);
    expect(await limiter.get('b')).toBeNull();
    await limiter.delete('a');
    expect(await limiter.get('a')).toBeNull();
    expect((await limiter.add('a')).points).toBe(1);
  });

  it('keeps prefixes apart', async () => {
    const one = factory()({ keyPrefix: `one_${kind}`, duration: 60 });
    const two = factory()({ keyPrefix: `two_${kind}`, duration: 60 });
    await one.add('same');
    await one.add('same');
    expect((await two.add('same')).points).toBe(1);
  });

  it('loses no increment under concurrent adds', async () => {
    const limiter = factory()({ keyPrefix: `race_${kind}`, duration: 60 });
    const results = await Promise.all(Array.from({ length: 60 }, () => limiter.add('hot')));
    // Every add saw a distinct count: each was applied atomically on top of the others.
    const seen = results.map((r) => r.points).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect((await limiter.get('hot'))?.points).toBe(60);
  });
});

describe('database limiter', () => {
  it('restarts a key whose window ended and sweeps ended windows', async () => {
    const limiter = databaseLimiters(connection.db, clock)({ keyPrefix: 'ends', duration: 60 });
    await limiter.add('k', 5);
    now += 59_000;
    expect((await limiter.get('k'))?.points).toBe(5);
    now += 1_000;
    expect(await limiter.get('k')).toBeNull();
    const restarted = await limiter.add('k');
    expect(restarted).toEqual({ points: 1, msLeft: 60_000 });

    await limiter.add('gone');
    now += 11 * 60 * 1000; // past the window and the sweep interval: the next add sweeps
    await limiter.add('fresh');
    const keys = await connection.db
      .selectFrom('rate_limits')
      .select('key')
      .where('key', 'like', 'ends:%')
      .execute();
    expect(keys).toHaveLength(1);
  });

  it('stores hashed keys, never the limited value', async () => {
    const limiter = databaseLimiters(connection.db, clock)({ keyPrefix: 'privacy', duration: 60 });
    await limiter.add('someone@example.com');
    const rows = await connection.db
      .selectFrom('rate_limits')
      .select('key')
      .where('key', 'like', 'privacy:%')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key).toMatch(/^privacy:[0-9a-f]{64}$/);
  });
});
