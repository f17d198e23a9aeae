import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { startServer } from '../../server.js';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { countFilesUnder, uploadOk } from '../../../test/uploads.js';
import path from 'node:path';

const DAY = 86_400_000;
const DELETE = `mutation($id: ID!) { deleteFile(id: $id) }`;
const RESTORE = `mutation($id: ID!) { restoreFile(id: $id) { id name status downloadCount
  tags { name } } }`;
const PURGE = `mutation($id: ID!) { purgeFile(id: $id) }`;
const TRASH = `query($first: Int) { trash(first: $first) { totalCount tagCounts { count }
  edges { node { id name deletedAt purgeAt uploadedBy { id } } } } }`;

interface TrashPage {
  trash: {
    totalCount: number;
    edges: {
      node: { id: string; name: string; deletedAt: string | null; purgeAt: string | null };
    }[];
  };
}

describe('trash', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };

  const gql = <T>(query: string, vars: Record<string, unknown>, token: string) =>
    t.data<T>(query, vars, { token });
  const trashIds = async (token: string) =>
    (await gql<TrashPage>(TRASH, { first: 100 }, token)).trash.edges.map((e) => e.node.id);
  const download = (id: string, token: string) =>
    fetch(`${t.url}/files/${id}/download`, { headers: { authorization: `Bearer ${token}` } });
  const blobCount = () => countFilesUnder(path.join(t.dir, 'files'));

  beforeAll(async () => {
    t = await startTestServer({ TRASH_DAYS: '30' });
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
    bob = await t.signUp('bob@example.com');
  });
  afterAll(() => t.close());

  it('deletes to the trash, where it is gone for everything but the trash, and restores it whole', async () => {
    const file = await uploadOk(t, 'quarterly numbers', {
      token: alice.token,
      filename: 'zebra-report.txt',
      tags: ['Finance', 'Reports'],
    });
    // One download, so counters and history have something to lose.
    expect(await (await download(file.id, bob.token)).text()).toBe('quarterly numbers');
    const view = `query($id: ID!) {
      file(id: $id) { id }
      files(query: "zebra") { totalCount edges { node { id } } }
      tags(query: "Finance") { edges { node { name fileCount downloadCount } } }
      downloads(fileId: $id) { totalCount }
      me { uploadCount usedBytes }
    }`;
    const seen = await gql<Record<string, unknown>>(view, { id: file.id }, admin.token);
    expect(seen).toMatchObject({
      file: { id: file.id },
      files: { totalCount: 1 },
      tags: { edges: [{ node: { name: 'Finance', fileCount: 1, downloadCount: 1 } }] },
      downloads: { totalCount: 1 },
    });
    const aliceBefore = await gql<{ me: { uploadCount: number; usedBytes: number } }>(
      `{ me { uploadCount usedBytes } }`,
      {},
      alice.token,
    );
    expect(aliceBefore.me).toEqual({ uploadCount: 1, usedBytes: 17 });

    expect(await gql(DELETE, { id: file.id }, alice.token)).toEqual({ deleteFile: true });

    const gone = await gql<Record<string, unknown>>(view, { id: file.id }, admin.token);
    expect(gone).toMatchObject({
      file: null,
      files: { totalCount: 0, edges: [] },
      tags: { edges: [{ node: { name: 'Finance', fileCount: 0, downloadCount: 0 } }] },
      downloads: { totalCount: 0 },
    });
    expect((await download(file.id, alice.token)).status).toBe(404);
    const history = await gql<{ myDownloads: { edges: { node: unknown }[] } }>(
      `{ myDownloads { edges { node { fileName file { id } } } } }`,
      {},
      bob.token,
    );
    expect(history.myDownloads.edges).toEqual([
      { node: { fileName: 'zebra-report.txt', file: null } },
    ]);
    const afterDelete = await gql<{ me: { uploadCount: number; usedBytes: number } }>(
      `{ me { uploadCount usedBytes } }`,
      {},
      alice.token,
    );
    // Gone from her uploads, but the trash still takes her space until purged.
    expect(afterDelete.me).toEqual({ uploadCount: 0, usedBytes: 17 });

    const trash = await gql<TrashPage>(TRASH, { first: 10 }, alice.token);
    expect(trash.trash.totalCount).toBe(1);
    expect(trash.trash.edges[0]!.node).toMatchObject({ id: file.id, name: 'zebra-report.txt' });
    const trashed = trash.trash.edges[0]!.node;
    expect(Date.parse(trashed.deletedAt!)).toBeGreaterThan(Date.now() - 60_000);
    // Due TRASH_DAYS (30 here) after the delete.
    expect(Date.parse(trashed.purgeAt!) - Date.parse(trashed.deletedAt!)).toBe(30 * 86_400_000);

    const restored = await gql<{ restoreFile: unknown }>(RESTORE, { id: file.id }, alice.token);
    expect(restored.restoreFile).toEqual({
      id: file.id,
      name: 'zebra-report.txt',
      status: 'ACTIVE',
      downloadCount: 1,
      tags: [{ name: 'Finance' }, { name: 'Reports' }],
    });
    expect(await gql(view, { id: file.id }, admin.token)).toEqual(seen);
    // Out of the trash, a file has neither date.
    expect(
      await gql(
        `query($id: ID!) { file(id: $id) { deletedAt purgeAt } }`,
        { id: file.id },
        alice.token,
      ),
    ).toEqual({ file: { deletedAt: null, purgeAt: null } });
    const relinked = await gql<{ myDownloads: { edges: { node: unknown }[] } }>(
      `{ myDownloads { edges { node { fileName file { id } } } } }`,
      {},
      bob.token,
    );
    expect(relinked.myDownloads.edges).toEqual([
      { node: { fileName: 'zebra-report.txt', file: { id: file.id } } },
    ]);
    expect(await trashIds(alice.token)).toEqual([]);
    expect(await (await download(file.id, alice.token)).text()).toBe('quarterly numbers');
  });

  it('shows each person their own trash and admins everyone’s; only the uploader or an admin may restore or purge', async () => {
    const a = await uploadOk(t, 'alice’s', { token: alice.token, filename: 'a.txt' });
    const b = await uploadOk(t, 'bob’s', { token: bob.token, filename: 'b.txt' });
    await gql(DELETE, { id: a.id }, alice.token);
    await gql(DELETE, { id: b.id }, bob.token);
    expect(await trashIds(alice.token)).toEqual([a.id]);
    expect(await trashIds(bob.token)).toEqual([b.id]);
    expect(await trashIds(admin.token)).toEqual([b.id, a.id]);

    expect(errorCode(await t.gql(RESTORE, { id: a.id }, { token: bob.token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(PURGE, { id: a.id }, { token: bob.token }))).toBe('FORBIDDEN');
    for (const id of ['999999', 'abc']) {
      expect(errorCode(await t.gql(RESTORE, { id }, { token: alice.token }))).toBe('NOT_FOUND');
      expect(errorCode(await t.gql(PURGE, { id }, { token: alice.token }))).toBe('NOT_FOUND');
    }
    // A file that is not in the trash cannot be restored or purged.
    const live = await uploadOk(t, 'live', { token: alice.token, filename: 'live.txt' });
    expect(errorCode(await t.gql(PURGE, { id: live.id }, { token: alice.token }))).toBe(
      'NOT_FOUND',
    );
    expect(errorCode(await t.gql(TRASH, {}))).toBe('UNAUTHENTICATED');

    // Admins restore and purge anyone's.
    await gql(RESTORE, { id: a.id }, admin.token);
    await gql(PURGE, { id: b.id }, admin.token);
    expect(await trashIds(admin.token)).toEqual([]);
    await gql(DELETE, { id: a.id }, alice.token);
    await gql(DELETE, { id: live.id }, alice.token);
    await gql(PURGE, { id: a.id }, alice.token);
    await gql(PURGE, { id: live.id }, alice.token);
  });

  it('hides a HIDDEN file’s trash from its USER uploader, as the file itself was', async () => {
    const f = await uploadOk(t, 'hush', { token: alice.token, filename: 'hush.txt' });
    await gql(
      `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
      { id: f.id },
      admin.token,
    );
    await gql(DELETE, { id: f.id }, admin.token);
    expect(await trashIds(alice.token)).toEqual([]);
    expect(errorCode(await t.gql(RESTORE, { id: f.id }, { token: alice.token }))).toBe('NOT_FOUND');
    const back = await gql<{ restoreFile: { status: string } }>(RESTORE, { id: f.id }, admin.token);
    expect(back.restoreFile.status).toBe('HIDDEN');
    await gql(DELETE, { id: f.id }, admin.token);
    await gql(PURGE, { id: f.id }, admin.token);
  });

  it('restores without the tags deleted meanwhile', async () => {
    const f = await uploadOk(t, 'tagged', {
      token: alice.token,
      filename: 'tagged.txt',
      tags: ['Keep', 'Doomed'],
    });
    await gql(DELETE, { id: f.id }, alice.token);
    const tags = await gql<{ tags: { edges: { node: { id: string; name: string } }[] } }>(
      `{ tags(query: "Doomed") { edges { node { id name } } } }`,
      {},
      admin.token,
    );
    const doomed = tags.tags.edges.find((e) => e.node.name === 'Doomed')!.node.id;
    await gql(`mutation($id: ID!) { deleteTag(id: $id) }`, { id: doomed }, admin.token);
    const back = await gql<{ restoreFile: { tags: { name: string }[] } }>(
      RESTORE,
      { id: f.id },
      alice.token,
    );
    expect(back.restoreFile.tags).toEqual([{ name: 'Keep' }]);
    await gql(DELETE, { id: f.id }, alice.token);
    await gql(PURGE, { id: f.id }, alice.token);
  });

  it('purges a file at the purgeAt the trash shows for it, not a millisecond earlier', async () => {
    const file = await uploadOk(t, `due ${Date.now()}`, { token: alice.token });
    await gql(DELETE, { id: file.id }, alice.token);
    const shown = (await gql<TrashPage>(TRASH, { first: 50 }, alice.token)).trash.edges.find(
      (e) => e.node.id === file.id,
    )!.node;
    const due = Date.parse(shown.purgeAt!);
    const files = t.server.app.services.files;
    // Other tests' files may be due by then too; only whether this one went matters.
    await files.purgeExpired(due - 1);
    expect(await trashIds(alice.token)).toContain(file.id);
    await files.purgeExpired(due);
    expect(await trashIds(alice.token)).not.toContain(file.id);
  });

  it('purges after TRASH_DAYS, keeping a blob another file still uses', async () => {
    const blobsBefore = await blobCount();
    const used = async () =>
      (await gql<{ me: { usedBytes: number } }>(`{ me { usedBytes } }`, {}, alice.token)).me
        .usedBytes;
    const usedBefore = await used();
    const shared = `shared ${Date.now()}`;
    const one = await uploadOk(t, shared, { token: alice.token, filename: 'one.txt' });
    const two = await uploadOk(t, shared, { token: bob.token, filename: 'two.txt' });
    const alone = await uploadOk(t, `alone ${Date.now()}`, { token: alice.token });
    expect(await blobCount()).toBe(blobsBefore + 2);
    await gql(DELETE, { id: one.id }, alice.token);
    await gql(DELETE, { id: alone.id }, alice.token);
    const files = t.server.app.services.files;

    // The clock is the caller's: 29 days on, nothing is due.
    expect(await files.purgeExpired(Date.now() + 29 * DAY)).toBe(0);
    expect(await trashIds(alice.token)).toEqual([alone.id, one.id]);
    expect(await files.purgeExpired(Date.now() + 31 * DAY)).toBe(2);
    expect(await trashIds(alice.token)).toEqual([]);
    // `one` shared its bytes with `two`, which still serves them; `alone`'s went.
    expect(await blobCount()).toBe(blobsBefore + 1);
    expect(await (await download(two.id, bob.token)).text()).toBe(shared);
    expect(await used()).toBe(usedBefore);
    const purges = await gql<{ auditEvents: { edges: { node: { actorLabel: string } }[] } }>(
      `{ auditEvents(action: "file.purge", first: 2) { edges { node { actorLabel } } } }`,
      {},
      admin.token,
    );
    expect(purges.auditEvents.edges.map((e) => e.node.actorLabel)).toEqual(['system', 'system']);

    await gql(DELETE, { id: two.id }, bob.token);
    await gql(PURGE, { id: two.id }, bob.token);
    expect(await blobCount()).toBe(blobsBefore);
  });

  it('purges each file once when purges and restores race', async () => {
    const blobsBefore = await blobCount();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const f = await uploadOk(t, `race ${i % 3} ${Date.now()}`, { token: alice.token });
      await gql(DELETE, { id: f.id }, alice.token);
      ids.push(f.id);
    }
    const files = t.server.app.services.files;
    const later = Date.now() + 31 * DAY;
    // Two sweeps at once (as two instances would run them) and user purges and restores of
    // the same files meanwhile: every file ends purged or restored exactly once.
    const results = await Promise.all([
      files.purgeExpired(later),
      files.purgeExpired(later),
      ...ids.slice(0, 6).map((id) => t.gql(PURGE, { id }, { token: alice.token })),
      ...ids.slice(6, 9).map((id) => t.gql(RESTORE, { id }, { token: alice.token })),
    ]);
    const swept = (results[0] as number) + (results[1] as number);
    const manual = results.slice(2, 8).filter((r) => !(r as { errors?: unknown }).errors).length;
    const restored = results
      .slice(8)
      .filter((r) => (r as { data?: { restoreFile?: unknown } | null }).data?.restoreFile).length;
    expect(swept + manual + restored).toBe(12);
    expect(await trashIds(alice.token)).toEqual([]);
    const db = t.server.connection.db;
    const left = await db
      .selectFrom('files')
      .select('id')
      .where('id', 'in', ids.map(Number))
      .execute();
    expect(left.length).toBe(restored);
    for (const { id } of left) {
      await gql(DELETE, { id: String(id) }, alice.token);
      await gql(PURGE, { id: String(id) }, alice.token);
    }
    expect(await blobCount()).toBe(blobsBefore);
    const refs = await db.selectFrom('blobs').select(['sha256', 'ref_count']).execute();
    for (const r of refs) expect(r.ref_count).toBeGreaterThan(0);
  });

  it('purges with two instances at once (PostgreSQL)', async (ctx) => {
    const pool = t.server.connection.pgPool;
    if (!pool) return ctx.skip();
    const url = (pool as unknown as { options: { connectionString: string } }).options
      .connectionString;
    const second = await startServer(
      loadConfig(
        {
          PORT: '0',
          DATABASE_URL: url,
          FILES_DIR: path.join(t.dir, 'files'),
          WEB_DIR: '',
          TRASH_DAYS: '30',
        },
        t.dir,
      ),
      createLogger('silent'),
    );
    try {
      const blobsBefore = await blobCount();
      for (let i = 0; i < 10; i++) {
        const f = await uploadOk(t, `two instances ${i} ${Date.now()}`, { token: alice.token });
        await gql(DELETE, { id: f.id }, alice.token);
      }
      const later = Date.now() + 31 * DAY;
      const [a, b] = await Promise.all([
        t.server.app.services.files.purgeExpired(later),
        second.app.services.files.purgeExpired(later),
      ]);
      expect(a + b).toBe(10);
      expect(await trashIds(alice.token)).toEqual([]);
      expect(await blobCount()).toBe(blobsBefore);
    } finally {
      await second.close();
    }
  });
});

describe('trash with TRASH_DAYS=0', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ TRASH_DAYS: '0' });
  });
  afterAll(() => t.close());

  it('deletes for good at once', async () => {
    const admin = await t.signUp('admin@example.com');
    const f = await uploadOk(t, 'at once', { token: admin.token });
    await t.gql(DELETE, { id: f.id }, { token: admin.token });
    const trash = await t.gql<TrashPage>(TRASH, {}, { token: admin.token });
    expect(trash.data!.trash.totalCount).toBe(0);
    expect(await countFilesUnder(path.join(t.dir, 'files'))).toBe(0);
  });
});
