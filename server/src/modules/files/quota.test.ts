import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import {
  chunkedUpload,
  countFilesUnder,
  declaredUpload,
  eventually,
  upload,
  uploadOk,
} from '../../../test/uploads.js';

const KIB = 1024;
const QUOTA = `mutation($id: ID!, $quotaBytes: SafeInt) {
  setUserQuota(id: $id, quotaBytes: $quotaBytes) { id quotaBytes usedBytes } }`;
const ME = `{ me { usedBytes quotaBytes } }`;

describe('quotas', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };

  const me = async (token: string) =>
    (await t.gql<{ me: { usedBytes: number; quotaBytes: number | null } }>(ME, {}, { token })).data!
      .me;
  const setQuota = async (id: string, quotaBytes: number | null) => {
    const res = await t.gql(QUOTA, { id, quotaBytes }, { token: admin.token });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
  };
  /** used_bytes against the sizes it sums, straight from the tables. */
  const recount = async (userId: string) => {
    const db = t.server.connection.db;
    const sum = async (table: 'files' | 'trashed_files') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('n'))
            .where('uploaded_by', '=', Number(userId))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return (await sum('files')) + (await sum('trashed_files'));
  };
  const stored = async () => {
    const db = t.server.connection.db;
    const files = await db.selectFrom('files').select('id').execute();
    const sessions = await db.selectFrom('upload_sessions').select('id').execute();
    return {
      files: files.length,
      sessions: sessions.length,
      objects: await countFilesUnder(path.join(t.dir, 'files')),
    };
  };

  /** A tus creation (POST /uploads) of `length` bytes, answered as it comes. */
  const createResumable = (token: string, length: number) =>
    fetch(`${t.url}/uploads`, {
      method: 'POST',
      headers: {
        'tus-resumable': '1.0.0',
        authorization: `Bearer ${token}`,
        'upload-length': String(length),
        'upload-metadata': `filename ${Buffer.from('part.bin').toString('base64')}`,
      },
    });

  beforeAll(async () => {
    t = await startTestServer({ DEFAULT_QUOTA_BYTES: String(64 * KIB), TRASH_DAYS: '30' });
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
  });
  afterAll(() => t.close());

  it('lets admins set a quota (null: the default), logs it, and shows usage to its owner and admins', async () => {
    expect(await me(alice.token)).toEqual({ usedBytes: 0, quotaBytes: 64 * KIB });
    const set = await t.gql<{ setUserQuota: unknown }>(
      QUOTA,
      { id: alice.id, quotaBytes: 10 * KIB },
      { token: admin.token },
    );
    expect(set.data!.setUserQuota).toEqual({ id: alice.id, quotaBytes: 10 * KIB, usedBytes: 0 });
    const events = await t.gql<{ auditEvents: { edges: { node: { details: string } }[] } }>(
      `{ auditEvents(action: "user.quota") { edges { node { details } } } }`,
      {},
      { token: admin.token },
    );
    expect(JSON.parse(events.data!.auditEvents.edges[0]!.node.details)).toEqual({
      before: { quotaBytes: null },
      after: { quotaBytes: 10 * KIB },
    });
    expect(
      errorCode(await t.gql(QUOTA, { id: alice.id, quotaBytes: 1 }, { token: alice.token })),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(await t.gql(QUOTA, { id: alice.id, quotaBytes: -1 }, { token: admin.token })),
    ).toBe('BAD_USER_INPUT');
    expect(
      errorCode(await t.gql(QUOTA, { id: '99999', quotaBytes: 1 }, { token: admin.token })),
    ).toBe('NOT_FOUND');
    // Another USER may not learn how much someone stores (it would count hidden files).
    const bob = await t.signUp('bob@example.com');
    const mine = await uploadOk(t, 'x', { token: alice.token });
    const look = (field: string) =>
      t.gql(
        `query($id: ID!) { file(id: $id) { uploadedBy { ${field} } } }`,
        { id: mine.id },
        {
          token: bob.token,
        },
      );
    expect((await look('name')).errors).toBeUndefined();
    const peek = await look('usedBytes');
    expect(errorCode(peek)).toBe('FORBIDDEN');
    await setQuota(alice.id, null);
    expect((await me(alice.token)).quotaBytes).toBe(64 * KIB);
    await t.gql(
      `mutation($id: ID!) { deleteFile(id: $id) purgeFile(id: $id) }`,
      { id: mine.id },
      {
        token: alice.token,
      },
    );
  });

  it('refuses a declared upload past the quota before reading its body, keeping nothing', async () => {
    await setQuota(alice.id, 100 * KIB);
    const before = await stored();
    const res = await declaredUpload(t, alice.token, 2 * 1024 ** 2, {
      parts: 256,
      partBytes: 8 * KIB,
    });
    expect(res.status).toBe(413);
    const error = JSON.parse(res.body).errors[0];
    expect(error.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', quotaBytes: 100 * KIB });
    expect(res.partsSent).toBeLessThan(256);
    expect(await stored()).toEqual(before);
  });

  it('stops an upload of undeclared length while it streams, keeping nothing', async () => {
    await setQuota(alice.id, 100 * KIB);
    const before = await stored();
    const res = await chunkedUpload(t, alice.token, Buffer.alloc(300 * KIB, 3), 16 * KIB);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('QUOTA_EXCEEDED');
    await eventually(async () => (await stored()).objects === before.objects);
    expect(await stored()).toEqual(before);
  });

  it('counts the trash until it is purged', async () => {
    await setQuota(alice.id, 10 * KIB);
    const f = await uploadOk(t, Buffer.alloc(8 * KIB, 1), { token: alice.token });
    await t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: f.id }, { token: alice.token });
    expect((await me(alice.token)).usedBytes).toBe(8 * KIB);
    const refused = await upload(t, Buffer.alloc(4 * KIB, 2), { token: alice.token });
    expect(refused.status).toBe(413);
    expect(errorCode(refused)).toBe('QUOTA_EXCEEDED');
    await t.gql(`mutation($id: ID!) { purgeFile(id: $id) }`, { id: f.id }, { token: alice.token });
    expect((await me(alice.token)).usedBytes).toBe(0);
    const fits = await uploadOk(t, Buffer.alloc(4 * KIB, 2), { token: alice.token });
    // Exactly full is allowed.
    await uploadOk(t, Buffer.alloc(6 * KIB, 4), { token: alice.token });
    expect((await me(alice.token)).usedBytes).toBe(10 * KIB);
    for (const id of [fits.id]) {
      await t.gql(
        `mutation($id: ID!) { deleteFile(id: $id) purgeFile(id: $id) }`,
        { id },
        {
          token: alice.token,
        },
      );
    }
  });

  it('refuses a resumable upload past the quota at creation', async () => {
    await setQuota(alice.id, (await me(alice.token)).usedBytes + 5 * KIB);
    const before = await stored();
    const res = await createResumable(alice.token, 6 * KIB);
    expect(res.status).toBe(413);
    expect(await stored()).toEqual(before);
  });

  it('counts what unfinished resumable uploads may still store, even when they are created at once', async () => {
    const dave = await t.signUp('dave@example.com');
    await setQuota(dave.id, 10 * KIB);
    const create = () => createResumable(dave.token, 3 * KIB);
    // Three of 3 KiB fit in 10 KiB; without counting the unfinished ones, all eight would start
    // and put 24 KiB on the disk of a user allowed 10.
    const answers = await Promise.all(Array.from({ length: 8 }, create));
    const created = answers.filter((r) => r.status === 201);
    expect(created).toHaveLength(3);
    for (const refused of answers.filter((r) => r.status !== 201)) {
      expect(refused.status).toBe(413);
      const body = (await refused.json()) as {
        errors: { message: string; extensions: Record<string, unknown> }[];
      };
      expect(body.errors[0]!.extensions).toMatchObject({
        code: 'QUOTA_EXCEEDED',
        quotaBytes: 10 * KIB,
        usedBytes: 0,
        pendingBytes: 9 * KIB,
      });
      expect(body.errors[0]!.message).toMatch(/held by your unfinished uploads/);
    }
    // Cancelling one gives its room back.
    const url = new URL(created[0]!.headers.get('location')!, t.url);
    const ended = await fetch(url, {
      method: 'DELETE',
      headers: { 'tus-resumable': '1.0.0', authorization: `Bearer ${dave.token}` },
    });
    expect(ended.status).toBe(204);
    expect((await create()).status).toBe(201);
    expect((await create()).status).toBe(413);
  });

  it('stays exact under 20 concurrent uploads and deletions, and never lets the quota be passed', async () => {
    const carol = await t.signUp('carol@example.com');
    const size = 4 * KIB;
    await setQuota(carol.id, 10 * size);
    // Some of her files exist already, to delete while the uploads run.
    const existing = [];
    for (let i = 0; i < 5; i++) {
      existing.push(await uploadOk(t, Buffer.alloc(size, 100 + i), { token: carol.token }));
    }
    const results = await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        upload(t, Buffer.alloc(size, i), { token: carol.token, filename: `c${i}.bin` }),
      ),
      ...existing.map((f) =>
        t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: f.id }, { token: carol.token }),
      ),
    ]);
    const uploads = results.slice(0, 20) as Awaited<ReturnType<typeof upload>>[];
    const ok = uploads.filter((r) => r.data?.uploadFile).length;
    for (const r of uploads) if (!r.data?.uploadFile) expect(errorCode(r)).toBe('QUOTA_EXCEEDED');
    // Trashed files still count: 5 of the 10 places are taken whatever the order.
    expect(ok).toBe(5);
    expect((await me(carol.token)).usedBytes).toBe(10 * size);
    expect(await recount(carol.id)).toBe(10 * size);

    // Purges and uploads at once: the count follows exactly.
    const purgeResults = await Promise.all([
      ...existing.map((f) =>
        t.gql(`mutation($id: ID!) { purgeFile(id: $id) }`, { id: f.id }, { token: carol.token }),
      ),
      ...Array.from({ length: 15 }, (_, i) =>
        upload(t, Buffer.alloc(size, 50 + i), { token: carol.token }),
      ),
    ]);
    const used = (await me(carol.token)).usedBytes;
    expect(used).toBe(await recount(carol.id));
    expect(used).toBeLessThanOrEqual(10 * size);
    const uploaded = purgeResults
      .slice(5)
      .filter((r) => (r as { data?: { uploadFile?: unknown } }).data?.uploadFile).length;
    expect(used).toBe((5 + uploaded) * size);
    expect(uploaded).toBeLessThanOrEqual(5);
  });
});
