import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { openDatabase, type Connection } from '../../db/connection.js';
import { migrateToLatest } from '../../db/migrate.js';
import { createPostgresDatabase } from '../../../test/harness.js';
import { eventually } from '../../../test/uploads.js';
import {
  addressKey,
  limiterFactoryFor,
  memoryLimiters,
  postgresLimiters,
  RATE_LIMIT_TABLE,
  type LimiterFactory,
} from './rate-limit.js';

// The limiter contract, in memory and in PostgreSQL's table (when the suite runs with
// TEST_DATABASE_URL): the same windows, and no lost increments under concurrency.

let connection: Connection;
let dropDatabase: (() => Promise<void>) | undefined;
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

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

const kinds: [string, () => LimiterFactory][] = [['memory', () => memoryLimiters]];
if (onPostgres) kinds.push(['postgres', () => postgresLimiters(connection.pgPool!)]);

it('counts in the database on PostgreSQL and in memory on SQLite', () => {
  expect(limiterFactoryFor(connection) === memoryLimiters).toBe(!onPostgres);
});

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

  it('restarts a key whose window ended', async () => {
    const limiter = factory()({ keyPrefix: `ends_${kind}`, duration: 1 });
    await limiter.add('k', 5);
    expect((await limiter.get('k'))?.points).toBe(5);
    // The window ends a second after the first add: the key is gone by itself then.
    await eventually(async () => (await limiter.get('k')) === null);
    const restarted = await limiter.add('k');
    expect(restarted.points).toBe(1);
    expect(restarted.msLeft).toBeGreaterThan(500);
  });
});

describe.skipIf(!onPostgres)('postgres limiter', () => {
  it('stores hashed keys, never the limited value', async () => {
    const limiter = postgresLimiters(connection.pgPool!)({ keyPrefix: 'privacy', duration: 60 });
    await limiter.add('someone@example.com');
    const { rows } = await sql<{ key: string }>`
      select key from ${sql.table(RATE_LIMIT_TABLE)} where key like 'privacy:%'`.execute(
      connection.db,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key).toMatch(/^privacy:[0-9a-f]{64}$/);
  });
});

describe('addressKey', () => {
  it('counts an IPv6 address by its /64 and an IPv4 address by itself', () => {
    // Every spelling of addresses in one /64 gives one key; the next /64 another.
    const one = addressKey('2001:db8:1:2::a');
    expect(one).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0DB8:0001:0002:ffff:1:2:3')).toBe(one);
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('2001:db8:1:3::a')).not.toBe(one);
    expect(addressKey('203.0.113.7')).toBe('203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    // Not an address (a proxy's header gone wrong): kept, but never longer than 64 characters.
    expect(addressKey('unknown')).toBe('unknown');
    expect(addressKey('x'.repeat(500))).toHaveLength(64);
  });
});
