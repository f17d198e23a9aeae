import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../test/harness.js';
import { uploadOk } from '../../test/uploads.js';

// Heavy reads on SQLite run on worker threads (read-pool.ts) so that no request holds the event
// loop. PostgreSQL has no such pool: its reads are asynchronous already.
describe.skipIf(Boolean(process.env.TEST_DATABASE_URL))('SQLite read pool', () => {
  let t: TestServer;
  let token: string;

  beforeAll(async () => {
    t = await startTestServer();
    token = (await t.signUp('admin@example.com')).token;
    await uploadOk(t, 'an annual plan', { token, filename: 'annual plan.txt' });
  });
  afterAll(() => t.close());

  // A statement that keeps SQLite busy for a while whatever the library holds.
  const heavy = sql<{ n: number }>`with recursive c(i) as (select 1 union all select i + 1 from c
    where i < 1000000) select count(*) as n from c`;

  it('runs a heavy statement while the event loop goes on, unlike the main connection', async () => {
    const order: string[] = [];
    const onPool = heavy.execute(t.server.connection.reads).then(() => order.push('pool'));
    setImmediate(() => order.push('loop'));
    await onPool;
    expect(order).toEqual(['loop', 'pool']);

    // The same statement on the main connection holds the loop until it is done.
    order.length = 0;
    const onMain = heavy.execute(t.server.connection.db).then(() => order.push('main'));
    setImmediate(() => order.push('loop'));
    await onMain;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['main', 'loop']);
  });

  it('refuses writes, in snapshots too', async () => {
    const reads = t.server.connection.reads;
    await expect(sql`delete from files`.execute(reads)).rejects.toThrow(/rows only|readonly/);
    await expect(
      reads.transaction().execute((trx) => sql`delete from files`.execute(trx)),
    ).rejects.toThrow(/rows only|readonly/);
  });

  it('runs a transaction as a snapshot: later commits stay unseen until it ends', async () => {
    const { db, reads } = t.server.connection;
    const count = async (on: typeof reads) =>
      Number(
        (
          await on
            .selectFrom('files')
            .select((eb) => eb.fn.countAll().as('n'))
            .execute()
        )[0]!.n,
      );
    const before = await count(reads);
    const seen = await reads.transaction().execute(async (trx) => {
      const first = await count(trx);
      await uploadOk(t, 'later', { token, filename: 'later.txt' });
      // The main connection sees the new file at once; the snapshot does not.
      expect(await count(db)).toBe(before + 1);
      return [first, await count(trx)];
    });
    expect(seen).toEqual([before, before]);
    expect(await count(reads)).toBe(before + 1);
    // Many snapshots at once, each on its own connection, all ending.
    const many = await Promise.all(
      Array.from({ length: 12 }, () => reads.transaction().execute((trx) => count(trx))),
    );
    expect(many).toEqual(Array(12).fill(before + 1));
  });

  it('is where searches and statistics run', async () => {
    // Closing the pool breaks exactly the requests that use it: searches and statistics, not
    // sign-in checks or a single file.
    await t.server.connection.reads.destroy();
    const search = await t.gql('{ files(query: "an") { totalCount } }', {}, { token });
    expect(errorCode(search)).toBe('INTERNAL_SERVER_ERROR');
    const stats = await t.gql('{ downloadStats { total } }', {}, { token });
    expect(errorCode(stats)).toBe('INTERNAL_SERVER_ERROR');
    const me = await t.gql<{ me: { email: string } }>('{ me { email } }', {}, { token });
    expect(me.data?.me.email).toBe('admin@example.com');
  });
});
