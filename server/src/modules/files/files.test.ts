import { createHash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, countRows } from '../../../test/library.js';
import {
  PNG,
  chunkedUpload,
  declaredUpload,
  eventually,
  multipartBody,
  serverCaughtUp,
  storageUnderTest,
  upload,
  uploadOk,
  type StorageKind,
  type StorageUnderTest,
} from '../../../test/uploads.js';

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const LIMIT = 64 * 1024;

async function rowCounts(t: TestServer) {
  return { files: await countRows(t, 'files'), blobs: await countRows(t, 'blobs') };
}

describe.each<StorageKind>(['local', 's3'])('uploads (%s storage)', (kind) => {
  let store: StorageUnderTest;
  let t: TestServer;
  let admin: string;
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };

  beforeAll(async () => {
    store = await storageUnderTest(kind);
    t = await startTestServer({ ...store.env, MAX_UPLOAD_BYTES: String(LIMIT) });
    admin = (await t.signUp('admin@example.com')).token;
    alice = await t.signUp('alice@example.com');
    bob = await t.signUp('bob@example.com');
  });
  afterAll(async () => {
    await t.close();
    await store.close();
  });

  /** Nothing half-done anywhere: no temp objects, and rows only for what `expected` says. */
  async function expectClean(expected: { files: number; blobs: number }) {
    await eventually(async () => (await store.countTemp(t)) === 0);
    expect(await rowCounts(t)).toEqual(expected);
    expect(await store.countBlobs(t)).toBe(expected.blobs);
  }

  it('streams a file in with its UTF-8 name, hash, size and sniffed type, and reads it back', async () => {
    const content = 'Grüße aus Köln — 你好\n';
    const file = await uploadOk(t, content, {
      token: alice.token,
      filename: 'Grüße „Köln“ 你好.txt',
      type: 'image/png',
    });
    expect(file).toMatchObject({
      name: 'Grüße „Köln“ 你好.txt',
      originalName: 'Grüße „Köln“ 你好.txt',
      size: Buffer.byteLength(content),
      sha256: sha256(content),
      mimeType: 'text/plain',
      status: 'ACTIVE',
      downloadCount: 0,
      downloadUrl: `/files/${file.id}/download`,
      tags: [{ name: 'Other' }],
      uploadedBy: { id: alice.id },
    });
    const res = await fetch(`${t.url}${file.downloadUrl}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(await res.text()).toBe(content);
    const me = await t.gql<{ me: { uploadCount: number } }>('{ me { uploadCount } }', {}, alice);
    expect(me.data?.me.uploadCount).toBe(1);
  });

  it('keeps quotes in a file name that the multipart encoding wrote as %22', async () => {
    const file = await uploadOk(t, 'q', { token: alice.token, filename: 'Say "hi" 100%.txt' });
    expect(file).toMatchObject({ name: 'Say "hi" 100%.txt', originalName: 'Say "hi" 100%.txt' });
  });

  it('sniffs the type from the bytes, then the extension, never from what the client claims', async () => {
    const png = await uploadOk(t, PNG, { token: alice.token, filename: 'notes.txt' });
    expect(png).toMatchObject({ mimeType: 'image/png', tags: [{ name: 'Image' }] });
    const html = await uploadOk(t, '<html><script>alert(1)</script></html>', {
      token: alice.token,
      filename: 'page.html',
      type: 'text/plain',
    });
    expect(html.mimeType).toBe('text/html');
    const unknown = await uploadOk(t, 'whatever', { token: alice.token, filename: 'data' });
    expect(unknown).toMatchObject({
      mimeType: 'application/octet-stream',
      tags: [{ name: 'Other' }],
    });
    // Source files mime-types names wrongly or not at all, shown as the code they are.
    for (const [filename, type] of [
      ['tool.py', 'text/x-python'],
      ['main.rs', 'text/x-rust'],
      ['App.tsx', 'text/typescript'],
    ] as const) {
      const code = await uploadOk(t, 'print(1)\n', { token: alice.token, filename });
      expect(code.mimeType, filename).toBe(type);
    }
    const audio = await uploadOk(t, 'not really', { token: alice.token, filename: 'song.mp3' });
    expect(audio).toMatchObject({ mimeType: 'audio/mpeg', tags: [{ name: 'Audio' }] });
  });

  it('types .ts/.tsx/.mts source as TypeScript text, and a real MPEG-TS stream as video', async () => {
    for (const filename of ['app.ts', 'View.tsx', 'mod.mts']) {
      const file = await uploadOk(t, 'export const x: number = 1;\n', {
        token: alice.token,
        filename,
      });
      expect(file.mimeType, filename).toBe('text/typescript');
    }
    // Three 188-byte packets, each starting with the 0x47 sync byte.
    const packet = Buffer.alloc(188, 0xff);
    packet[0] = 0x47;
    const stream = await uploadOk(t, Buffer.concat([packet, packet, packet]), {
      token: alice.token,
      filename: 'clip.ts',
    });
    expect(stream.mimeType).toBe('video/mp2t');
  });

  it('takes `name` over the file name and exactly the given tags, creating missing ones once', async () => {
    await t.gql('mutation { createTag(name: "Reports") { id } }', {}, { token: admin });
    const file = await uploadOk(t, 'q3', {
      token: alice.token,
      filename: 'raw.bin',
      name: '  Q3 report.pdf ',
      tags: ['reports', ' Finance ', 'FINANCE', 'Ünïcode'],
    });
    expect(file.name).toBe('Q3 report.pdf');
    expect(file.originalName).toBe('raw.bin');
    expect(file.tags.map((x) => x.name)).toEqual(['Finance', 'Reports', 'Ünïcode']);
    const none = await uploadOk(t, 'untagged', { token: alice.token, tags: [] });
    expect(none.tags).toEqual([]);
    const tags = await t.gql<{ tags: { edges: { node: { name: string } }[] } }>(
      '{ tags(first: 100) { edges { node { name } } } }',
      {},
      { token: admin },
    );
    const names = tags.data!.tags.edges.map((e) => e.node.name);
    expect(names.filter((n) => n.toLowerCase() === 'finance')).toEqual(['Finance']);
  });

  it.each([
    [{ name: 'a\r\nb' }, 'name'],
    [{ name: 'nul\u0000byte' }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(256) }, 'name'],
    [{ tags: ['x'.repeat(41)] }, 'tags'],
    [{ tags: ['  '] }, 'tags'],
    [{ tags: ['a\nb'] }, 'tags'],
  ])('refuses %o with BAD_USER_INPUT and stores nothing', async (options, field) => {
    const before = await rowCounts(t);
    const res = await upload(t, 'content', { token: alice.token, ...options });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(Object.keys(res.errors![0]!.extensions!.fields as object)).toEqual([field]);
    await expectClean(before);
  });

  it('accepts 255 characters of any script, and names that look like paths stay names', async () => {
    const long = 'é'.repeat(255);
    expect((await uploadOk(t, 'a', { token: alice.token, name: long })).name).toBe(long);
    const sneaky = await uploadOk(t, 'secret', {
      token: alice.token,
      name: '../../../etc/passwd',
    });
    expect(sneaky.name).toBe('../../../etc/passwd');
    // The bytes live under their hash inside the store, not where the name points.
    const res = await fetch(`${t.url}${sneaky.downloadUrl}`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect(await res.text()).toBe('secret');
  });

  it('stores identical content once, counts references, and deletes the blob with its last file', async () => {
    const before = await rowCounts(t);
    const blobsBefore = await store.countBlobs(t);
    const content = `shared ${kind} ${Date.now()}`;
    const a = await uploadOk(t, content, { token: alice.token, filename: 'a.txt' });
    const b = await uploadOk(t, content, { token: bob.token, filename: 'b.txt' });
    expect(a.sha256).toBe(b.sha256);
    expect(a.id).not.toBe(b.id);
    const blob = () =>
      t.server.connection.db
        .selectFrom('blobs')
        .selectAll()
        .where('sha256', '=', a.sha256)
        .executeTakeFirst();
    expect((await blob())?.ref_count).toBe(2);
    expect(await store.countBlobs(t)).toBe(blobsBefore + 1);

    const del = 'mutation($id: ID!) { deleteFile(id: $id) }';
    const purge = 'mutation($id: ID!) { purgeFile(id: $id) }';
    expect((await t.gql(del, { id: a.id }, alice)).data).toEqual({ deleteFile: true });
    // In the trash the file still holds its blob; purging it lets go.
    expect((await blob())?.ref_count).toBe(2);
    expect((await t.gql(purge, { id: a.id }, alice)).data).toEqual({ purgeFile: true });
    expect((await blob())?.ref_count).toBe(1);
    const stillThere = await fetch(`${t.url}${b.downloadUrl}`, {
      headers: { authorization: `Bearer ${bob.token}` },
    });
    expect(await stillThere.text()).toBe(content);

    expect((await t.gql(del, { id: b.id }, bob)).data).toEqual({ deleteFile: true });
    expect(await store.countBlobs(t)).toBe(blobsBefore + 1);
    expect((await t.gql(purge, { id: b.id }, bob)).data).toEqual({ purgeFile: true });
    expect(await blob()).toBeUndefined();
    await expectClean(before);
    expect(await store.countBlobs(t)).toBe(blobsBefore);
  });

  it('stops a streamed upload at MAX_UPLOAD_BYTES with 413 PAYLOAD_TOO_LARGE and keeps nothing', async () => {
    const before = await rowCounts(t);
    const exactly = await uploadOk(t, Buffer.alloc(LIMIT, 1), { token: alice.token });
    expect(exactly.size).toBe(LIMIT);
    const after = await rowCounts(t);
    const res = await upload(t, Buffer.alloc(LIMIT + 1, 2), { token: alice.token });
    expect(res.status).toBe(413);
    expect(errorCode(res)).toBe('PAYLOAD_TOO_LARGE');
    await expectClean(after);
    expect(after.files).toBe(before.files + 1);
  });

  it('stops an upload with no declared length (chunked) at the limit too', async () => {
    const before = await rowCounts(t);
    const res = await chunkedUpload(t, alice.token, Buffer.alloc(LIMIT * 3, 3), 16 * 1024);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    await expectClean(before);
  });

  it('answers a declared-too-large upload before reading its body, and closes the connection', async () => {
    const before = await rowCounts(t);
    // The client keeps sending (about 64 MiB) unless the server stops it.
    const res = await declaredUpload(t, alice.token, 10 * 1024 ** 3, {
      parts: 1024,
      partBytes: 64 * 1024,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    // The answer came while the client was still sending: the server did not wait for the body.
    expect(res.partsSent).toBeLessThan(1024);
    await expectClean(before);
  });

  it('refuses an unauthenticated upload with 401 before reading it', async () => {
    const before = await rowCounts(t);
    const res = await upload(t, 'anonymous', { headers: { 'x-requested-with': 'cabinet' } });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
    await expectClean(before);
  });

  it('refuses a cookie-authenticated upload without x-requested-with (CSRF), accepts it with', async () => {
    const before = await rowCounts(t);
    const cookie = `cabinet_session=${alice.token}`;
    const refused = await upload(t, 'cross-site', { headers: { cookie } });
    expect(refused.status).toBe(403);
    expect(errorCode(refused)).toBe('FORBIDDEN');
    await expectClean(before);
    const ok = await upload(t, 'same-site', {
      headers: { cookie, 'x-requested-with': 'cabinet' },
    });
    expect(ok.data?.uploadFile.name).toBe('file.bin');
  });

  it('lets API tokens upload only with the UPLOAD scope', async () => {
    const before = await rowCounts(t);
    const readOnly = await apiToken(t, alice.token, ['READ']);
    const refused = await upload(t, 'token', { token: readOnly });
    expect(refused.status).toBe(403);
    expect(errorCode(refused)).toBe('FORBIDDEN');
    await expectClean(before);
    const uploader = await apiToken(t, alice.token, ['UPLOAD']);
    expect((await uploadOk(t, 'token', { token: uploader })).uploadedBy).toEqual({
      id: alice.id,
    });
  });

  it('lets only admins set the status of an upload', async () => {
    const before = await rowCounts(t);
    const res = await upload(t, 'hidden?', { token: alice.token, status: 'HIDDEN' });
    expect(errorCode(res)).toBe('FORBIDDEN');
    await expectClean(before);
    const hidden = await uploadOk(t, 'hidden!', { token: admin, status: 'HIDDEN' });
    expect(hidden.status).toBe('HIDDEN');
  });

  it('keeps nothing of an upload the client abandons halfway', async () => {
    const before = await rowCounts(t);
    const { body, contentType } = await multipartBody(Buffer.alloc(LIMIT - 100, 5));
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${t.url}/graphql`, {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${alice.token}`,
          'content-type': contentType,
          'content-length': body.length,
        },
      });
      req.on('error', () => undefined);
      req.on('response', () => reject(new Error('the server answered a half-sent upload')));
      req.write(body.subarray(0, body.length / 2), () => {
        // The server has the first half; on disk its temp file exists once the file part streams
        // into storage (S3 writes an object this small in one request at its end: nothing to see).
        void (async () => {
          await eventually(async () => serverCaughtUp(req));
          if (kind === 'local') await eventually(async () => (await store.countTemp(t)) > 0);
          req.destroy();
        })().then(resolve, reject);
      });
    });
    await expectClean(before);
  });

  it('lists files with paging, order, uploader filter and visibility', async () => {
    const files = `query($first: Int, $after: String, $offset: Int, $orderBy: FileOrder, $status: FileStatus, $uploadedBy: ID) {
      files(first: $first, after: $after, offset: $offset, orderBy: $orderBy, status: $status, uploadedBy: $uploadedBy) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { id name status size uploadedBy { id } tags { name } } } } }`;
    type Page = {
      files: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string };
        edges: { node: { id: string; name: string; status: string; size: number } }[];
      };
    };
    const all = await t.gql<Page>(files, { first: 100 }, { token: admin });
    const visible = await t.gql<Page>(files, { first: 100 }, { token: bob.token });
    const hidden = all.data!.files.edges.filter((e) => e.node.status === 'HIDDEN');
    expect(hidden.length).toBeGreaterThan(0);
    expect(visible.data!.files.totalCount).toBe(all.data!.files.totalCount - hidden.length);
    expect(visible.data!.files.edges.every((e) => e.node.status === 'ACTIVE')).toBe(true);
    const onlyHidden = await t.gql<Page>(files, { status: 'HIDDEN' }, { token: bob.token });
    expect(onlyHidden.data!.files.totalCount).toBe(0);
    const adminHidden = await t.gql<Page>(files, { status: 'HIDDEN' }, { token: admin });
    expect(adminHidden.data!.files.totalCount).toBe(hidden.length);

    const first = await t.gql<Page>(files, { first: 2 }, { token: bob.token });
    const next = await t.gql<Page>(
      files,
      { first: 2, after: first.data!.files.pageInfo.endCursor },
      { token: bob.token },
    );
    const byOffset = await t.gql<Page>(files, { first: 2, offset: 2 }, { token: bob.token });
    expect(next.data!.files.edges).toEqual(byOffset.data!.files.edges);
    expect(visible.data!.files.edges.slice(2, 4).map((e) => e.node.id)).toEqual(
      next.data!.files.edges.map((e) => e.node.id),
    );

    const largest = await t.gql<Page>(files, { orderBy: 'LARGEST', first: 3 }, { token: admin });
    const sizes = largest.data!.files.edges.map((e) => e.node.size);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    const mine = await t.gql<Page>(files, { uploadedBy: bob.id, first: 100 }, { token: admin });
    expect(mine.data!.files.edges.every((e) => e.node)).toBe(true);

    const tooMany = await t.gql(files, { first: 101 }, { token: admin });
    expect(errorCode(tooMany)).toBe('BAD_USER_INPUT');
    const anonymous = await t.gql(files, {});
    expect(errorCode(anonymous)).toBe('UNAUTHENTICATED');
  });

  it('lets the uploader or an admin rename and retag, and only an admin change status', async () => {
    const file = await uploadOk(t, 'editable', { token: alice.token, filename: 'old.txt' });
    const update = `mutation($id: ID!, $name: String, $tags: [String!], $status: FileStatus) {
      updateFile(id: $id, name: $name, tags: $tags, status: $status) { name status tags { name } } }`;
    const renamed = await t.gql(
      update,
      { id: file.id, name: 'new.txt', tags: ['Beta', 'alpha'] },
      alice,
    );
    expect(renamed.data).toEqual({
      updateFile: {
        name: 'new.txt',
        status: 'ACTIVE',
        tags: [{ name: 'alpha' }, { name: 'Beta' }],
      },
    });
    expect(errorCode(await t.gql(update, { id: file.id, status: 'HIDDEN' }, alice))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await t.gql(update, { id: file.id, name: 'mine' }, bob))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(update, { id: file.id, name: 'bad\nname' }, alice))).toBe(
      'BAD_USER_INPUT',
    );
    const hidden = await t.gql(update, { id: file.id, status: 'HIDDEN' }, { token: admin });
    expect(hidden.data).toMatchObject({ updateFile: { status: 'HIDDEN' } });

    // Hidden: gone for USERs everywhere, the uploader included.
    const get = 'query($id: ID!) { file(id: $id) { id } }';
    expect((await t.gql(get, { id: file.id }, alice)).data).toEqual({ file: null });
    expect((await t.gql(get, { id: file.id }, { token: admin })).data).toEqual({
      file: { id: file.id },
    });
    expect(errorCode(await t.gql(update, { id: file.id, name: 'x' }, alice))).toBe('NOT_FOUND');
    expect(
      errorCode(await t.gql('mutation($id: ID!) { deleteFile(id: $id) }', { id: file.id }, alice)),
    ).toBe('NOT_FOUND');
    expect((await t.gql(get, { id: 'nonsense' }, alice)).data).toEqual({ file: null });
    expect((await t.gql(get, { id: '999999' }, alice)).data).toEqual({ file: null });
  });

  it('lets only the uploader or an admin delete', async () => {
    const file = await uploadOk(t, 'deletable', { token: alice.token });
    const del = 'mutation($id: ID!) { deleteFile(id: $id) }';
    expect(errorCode(await t.gql(del, { id: file.id }, bob))).toBe('FORBIDDEN');
    expect((await t.gql(del, { id: file.id }, { token: admin })).data).toEqual({
      deleteFile: true,
    });
    expect(errorCode(await t.gql(del, { id: file.id }, { token: admin }))).toBe('NOT_FOUND');
  });
});
