import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken } from '../../../test/library.js';
import { readZipAfter, unzip } from '../../../test/unzip.js';
import { eventually, findFile, uploadOk, type UploadedFile } from '../../../test/uploads.js';

// GET/HEAD /files/zip?ids=… (docs/api.md, "A selection as one ZIP"): the selection's files as
// one ZIP with the download route's credentials and visibility, one download counted per file,
// all or none.

describe('the selection as one ZIP', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let carol: { token: string; id: string };

  const zip = (ids: readonly string[] | string, token?: string, method = 'GET') =>
    fetch(`${t.url}/files/zip?ids=${typeof ids === 'string' ? ids : ids.join(',')}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  /** Each file's downloadCount and the history rows of the user, as an admin sees them. */
  const counts = async (ids: readonly string[]) => {
    const db = t.server.connection.db;
    const files = await db
      .selectFrom('files')
      .select(['id', 'download_count'])
      .where('id', 'in', ids.map(Number))
      .orderBy('id')
      .execute();
    const rows = await db
      .selectFrom('downloads')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('file_id', 'in', ids.map(Number))
      .executeTakeFirstOrThrow();
    return {
      files: files.map((f) => Number(f.download_count)),
      rows: Number(rows.n),
    };
  };
  const put = (content: string, name: string, token = alice.token) =>
    uploadOk(t, content, { token, filename: 'upload.bin', name });

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
    bob = await t.signUp('bob@example.com');
    carol = await t.signUp('carol@example.com');
  });
  afterAll(() => t.close());

  it('streams the files in the order asked, counting one download each; HEAD counts nothing', async () => {
    const a = await put('first file', 'report.txt');
    const b = await put('second, same name but for case', 'REPORT.txt');
    const c = await put('bob’s bytes', 'notes/2026.md', bob.token);
    const ids = [c.id, a.id, b.id];

    const head = await zip(ids, alice.token, 'HEAD');
    expect(head.status).toBe(200);
    const length = Number(head.headers.get('content-length'));
    expect(length).toBeGreaterThan(0);
    expect(await counts(ids)).toEqual({ files: [0, 0, 0], rows: 0 });

    // Duplicates count once.
    const res = await zip([...ids, a.id], alice.token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toContain('filename="files.zip"');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(length);
    expect(await unzip(bytes)).toEqual([
      ['notes_2026.md', Buffer.from('bob’s bytes')],
      ['report.txt', Buffer.from('first file')],
      ['REPORT (2).txt', Buffer.from('second, same name but for case')],
    ]);
    expect(await counts(ids)).toEqual({ files: [1, 1, 1], rows: 3 });
    const me = await t.gql<{ me: { downloadCount: number } }>(
      `{ me { downloadCount } }`,
      {},
      { token: alice.token },
    );
    expect(me.data!.me.downloadCount).toBe(3);
  });

  it('takes a session or a DOWNLOAD token, and refuses everything else before counting', async () => {
    const a = await put('a', 'a.txt');
    const b = await put('b', 'b.txt');
    const ids = [a.id, b.id];
    const reader = await apiToken(t, alice.token, ['READ']);
    const downloader = await apiToken(t, alice.token, ['DOWNLOAD']);

    expect((await zip(ids)).status).toBe(401);
    expect((await zip(ids)).headers.get('www-authenticate')).toBe('Bearer');
    expect((await zip(ids, reader)).status).toBe(403);
    for (const bad of ['', 'x', '1,,x', '0', '-1', '1.5', '12345678901234567']) {
      expect((await zip(bad, alice.token)).status, bad).toBe(400);
    }
    const many = Array.from({ length: 1001 }, (_, i) => String(i + 1));
    expect((await zip(many, alice.token)).status).toBe(400);
    const post = await fetch(`${t.url}/files/zip?ids=${a.id}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'x-requested-with': 'test' },
    });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // A browser opening a refused ZIP as a page is sent to the page that explains it.
    const page = await fetch(`${t.url}/files/zip?ids=${a.id}`, {
      headers: { 'sec-fetch-dest': 'document' },
      redirect: 'manual',
    });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/file-unavailable?status=401');
    expect(await counts(ids)).toEqual({ files: [0, 0], rows: 0 });

    const ok = await zip(ids, downloader);
    expect(ok.status).toBe(200);
    expect((await unzip(Buffer.from(await ok.arrayBuffer()))).map(([n]) => n)).toEqual([
      'a.txt',
      'b.txt',
    ]);
    expect(await counts(ids)).toEqual({ files: [1, 1], rows: 2 });
  });

  it('refuses the whole ZIP when one file is hidden from the caller, gone or trashed', async () => {
    const a = await put('visible', 'visible.txt');
    const hidden = await put('hidden', 'hidden.txt');
    const trashed = await put('trashed', 'trashed.txt');
    const hide = await t.gql(
      `mutation($ids: [ID!]!) { setFilesStatus(ids: $ids, status: HIDDEN) { id } }`,
      { ids: [hidden.id] },
      { token: admin.token },
    );
    expect(hide.errors).toBeUndefined();
    const del = await t.gql(
      `mutation($id: ID!) { deleteFile(id: $id) }`,
      { id: trashed.id },
      { token: alice.token },
    );
    expect(del.errors).toBeUndefined();

    // Her own file, hidden by an admin, does not exist for her; nor do trashed or unknown ones.
    for (const other of [hidden.id, trashed.id, '99999999']) {
      const res = await zip([a.id, other], alice.token);
      expect(res.status, other).toBe(404);
      expect(await res.text()).not.toContain(other);
      expect((await zip([a.id, other], alice.token, 'HEAD')).status).toBe(404);
    }
    expect(await counts([a.id, hidden.id])).toEqual({ files: [0, 0], rows: 0 });
    // An admin sees HIDDEN files, and may take them.
    const res = await zip([a.id, hidden.id], admin.token);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(await counts([a.id, hidden.id])).toEqual({ files: [1, 1], rows: 2 });
  });

  it('refuses a ZIP with a blob missing from storage before counting anything', async () => {
    const a = await put('kept', 'kept.txt');
    const b = await put('lost from storage', 'lost.txt');
    const blob = await findFile(t.dir, b.sha256);
    expect(blob).not.toBeNull();
    await fs.rm(blob!);
    for (const method of ['GET', 'HEAD']) {
      expect((await zip([a.id, b.id], alice.token, method)).status, method).toBe(404);
    }
    expect(await counts([a.id, b.id])).toEqual({ files: [0, 0], rows: 0 });
  });

  it('counts all or none when a file is deleted while ZIPs are asked for', async () => {
    const files: UploadedFile[] = [];
    for (let i = 0; i < 4; i++) files.push(await put(`race ${i}`, `race-${i}.txt`));
    const ids = files.map((f) => f.id);
    const results = await Promise.all([
      ...Array.from({ length: 6 }, () =>
        zip(ids, alice.token).then(async (r) => {
          if (r.status === 200) {
            expect((await unzip(Buffer.from(await r.arrayBuffer()))).length).toBe(4);
          } else {
            await r.arrayBuffer();
          }
          return r.status;
        }),
      ),
      t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: ids[2] }, { token: alice.token }),
    ]);
    const statuses = results.slice(0, 6) as number[];
    for (const s of statuses) expect([200, 404]).toContain(s);
    const served = statuses.filter((s) => s === 200).length;
    // The files left have exactly one download per ZIP served; none was counted for a refused one.
    const left = [ids[0]!, ids[1]!, ids[3]!];
    expect(await counts(left)).toEqual({ files: [served, served, served], rows: 3 * served });
  });

  it('leaves no blob open after a HEAD or a refused ZIP', async () => {
    // Large enough that reading it cannot finish (and close it) into a buffer nobody reads.
    const a = await put('held open? '.repeat(400_000), 'held.txt');
    const b = await put('second', 'second.txt');
    const blob = (await findFile(t.dir, a.sha256))!;
    for (let i = 0; i < 3; i++) {
      expect((await zip([a.id, b.id], alice.token, 'HEAD')).status).toBe(200);
      expect((await zip([a.id, b.id, '99999999'], alice.token)).status).toBe(404);
    }
    expect(await openHandles(blob)).toBe(0);
  });

  it('takes back the counts of files whose blob went after the check, keeping the sent one', async () => {
    const downloadsOf = async (email: string) =>
      Number(
        (
          await t.server.connection.db
            .selectFrom('users')
            .select('download_count')
            .where('email', '=', email)
            .executeTakeFirstOrThrow()
        ).download_count,
      );
    const before = await downloadsOf('carol@example.com');
    // The first file is larger than every buffer between server and client, so while the client
    // reads nothing, the ZIP stays inside it and the next blob has not been opened.
    const big = await uploadOk(t, randomBytes(32 << 20), {
      token: carol.token,
      filename: 'big.bin',
    });
    const lost = await put('gone mid-way', 'lost.txt', carol.token);
    const after = await put('never reached', 'after.txt', carol.token);
    const ids = [big.id, lost.id, after.id];

    // Counted by now (before the first byte), then the blob goes, then the client reads on.
    const cut = await readZipAfter(
      `${t.url}/files/zip?ids=${ids.join(',')}`,
      { authorization: `Bearer ${carol.token}` },
      async () => fs.rm((await findFile(t.dir, lost.sha256))!),
    );
    // A broken download, not a short valid ZIP: the big file's entry came whole, no more.
    expect(cut.complete).toBe(false);
    expect(cut.received).toBeGreaterThan(32 << 20);
    expect(cut.received).toBeLessThan(cut.length);

    // Only the file whose bytes went out is still a download, for the file and for its taker.
    await eventually(async () => (await counts([lost.id])).rows === 0, 20_000);
    expect(await counts(ids)).toEqual({ files: [1, 0, 0], rows: 1 });
    expect(await downloadsOf('carol@example.com')).toBe(before + 1);
    const lostRow = await t.server.connection.db
      .selectFrom('files')
      .select('last_downloaded_at')
      .where('id', '=', Number(lost.id))
      .executeTakeFirstOrThrow();
    expect(lostRow.last_downloaded_at).toBeNull();
  });
});

/** How many file descriptors of this process (the server runs in it) have `file` open. */
async function openHandles(file: string): Promise<number> {
  const fds = await fs.readdir('/proc/self/fd');
  let n = 0;
  for (const fd of fds) {
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target === file) n++;
  }
  return n;
}
