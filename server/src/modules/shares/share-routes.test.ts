import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/harness.js';
import { eventually, findFile, uploadOk, type UploadedFile } from '../../../test/uploads.js';
import { readZipAfter } from '../../../test/unzip.js';

// The share link routes beyond plain downloads: thumbnails, alike answers for every link that
// does not work, files leaving links for good, and a ZIP whose blob is missing.

const CREATE = `mutation($fileIds: [ID!]!, $expiresAt: DateTime, $password: String,
  $maxDownloads: Int) {
  createShareLink(fileIds: $fileIds, expiresAt: $expiresAt, password: $password,
    maxDownloads: $maxDownloads) { id url } }`;
const SHARE = `query($token: String!, $password: String) {
  share(token: $token, password: $password) {
    downloadsLeft zipUrl files { id name downloadUrl thumbnailUrl previewUrl }
  } }`;

interface PublicShare {
  downloadsLeft: number | null;
  zipUrl: string | null;
  files: {
    id: string;
    name: string;
    downloadUrl: string;
    thumbnailUrl: string | null;
    previewUrl: string | null;
  }[];
}

const tokenOf = (link: { url: string }) => new URL(link.url).pathname.split('/')[2]!;

/** `res` carries the headers that describe the bytes exactly as `own`, the file's own route. */
function expectHeadersOf(res: Response, own: Response, more: string[]) {
  const common = ['etag', 'cache-control', 'content-type', 'content-length'];
  for (const h of [...common, ...more, 'x-content-type-options', 'content-security-policy']) {
    expect(res.headers.get(h), h).toBe(own.headers.get(h));
  }
}

const png = () =>
  sharp({ create: { width: 400, height: 200, channels: 3, background: { r: 20, g: 90, b: 200 } } })
    .png()
    .toBuffer();

describe('share link routes', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let picture: UploadedFile;
  let text: UploadedFile;

  const create = async (vars: Record<string, unknown>, token = alice.token) => {
    const res = await t.gql<{ createShareLink: { id: string; url: string } }>(CREATE, vars, {
      token,
    });
    if (!res.data?.createShareLink) throw new Error(JSON.stringify(res.errors));
    return res.data.createShareLink;
  };
  const share = (token: string, password?: string) =>
    t.gql<{ share: PublicShare | null }>(SHARE, { token, password });
  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${t.url}${p}`, { method, headers, redirect: 'manual' });
  const counts = async (linkId: string, fileId: string) => {
    const res = await t.gql<{
      shareLinks: {
        edges: { node: { id: string; downloadCount: number; files: { id: string }[] } }[];
      };
      file: { downloadCount: number } | null;
    }>(
      `query($f: ID!) { file(id: $f) { downloadCount }
        shareLinks(all: true, first: 100) { edges { node { id downloadCount files { id } } } } }`,
      { f: fileId },
      { token: admin.token },
    );
    const link = res.data!.shareLinks.edges.map((e) => e.node).find((l) => l.id === linkId)!;
    return { link: link.downloadCount, linkFiles: link.files, file: res.data!.file?.downloadCount };
  };

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
    picture = await uploadOk(t, await png(), {
      token: alice.token,
      filename: 'picture.png',
    });
    text = await uploadOk(t, 'plain words\n', { token: alice.token, filename: 'words.txt' });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('serves thumbnails through the link as the thumbnail route does, never as downloads', async () => {
    const link = await create({ fileIds: [picture.id, text.id], maxDownloads: 1 });
    const token = tokenOf(link);
    const files = (await share(token)).data!.share!.files;
    expect(files.map((f) => f.thumbnailUrl)).toEqual([
      `/s/${token}/files/${picture.id}/thumbnail?size=256`,
      null,
    ]);
    const url = files[0]!.thumbnailUrl!;
    const own = await get(`/files/${picture.id}/thumbnail?size=256`, {
      authorization: `Bearer ${alice.token}`,
    });
    const ownBytes = Buffer.from(await own.arrayBuffer());
    // More thumbnails than the link has downloads: none of them is one.
    for (let i = 0; i < 3; i++) {
      const res = await get(url);
      expect(res.status).toBe(200);
      expectHeadersOf(res, own, []);
      expect(res.headers.get('content-type')).toBe('image/webp');
      expect(res.headers.get('content-disposition')).toBeNull();
      expect(Buffer.from(await res.arrayBuffer()).equals(ownBytes)).toBe(true);
    }
    const big = await get(`/s/${token}/files/${picture.id}/thumbnail?size=1024`);
    expect(big.status).toBe(200);
    expect((await sharp(Buffer.from(await big.arrayBuffer())).metadata()).width).toBe(400);
    expect((await get(url, { 'if-none-match': own.headers.get('etag')! })).status).toBe(304);
    expect((await get(url, {}, 'HEAD')).status).toBe(200);
    expect((await get(`/s/${token}/files/${picture.id}/thumbnail?size=99`)).status).toBe(400);
    expect((await get(`/s/${token}/files/${text.id}/thumbnail`)).status).toBe(404);
    expect((await get(`/s/${token}/files/999999/thumbnail`)).status).toBe(404);
    expect(await counts(link.id, picture.id)).toMatchObject({ link: 0, file: 0 });
    expect((await share(token)).data!.share!.downloadsLeft).toBe(1);

    // Once the link stops, so do its thumbnails.
    await t.gql(
      `mutation($id: ID!) { revokeShareLink(id: $id) }`,
      { id: link.id },
      {
        token: alice.token,
      },
    );
    expect((await get(url)).status).toBe(404);
  });

  it('carries the password proof in thumbnail URLs and asks for it without one', async () => {
    const link = await create({ fileIds: [picture.id], password: 'open sesame' });
    const token = tokenOf(link);
    expect((await get(`/s/${token}/files/${picture.id}/thumbnail`)).status).toBe(403);
    const files = (await share(token, 'open sesame')).data!.share!.files;
    const thumb = new URL(files[0]!.thumbnailUrl!, t.url);
    expect(thumb.searchParams.get('size')).toBe('256');
    expect(thumb.searchParams.get('key')).toBe(
      new URL(files[0]!.downloadUrl, t.url).searchParams.get('key'),
    );
    expect(thumb.toString()).not.toContain('sesame');
    expect((await get(`${thumb.pathname}${thumb.search}`)).status).toBe(200);
  });

  it('serves previews as the preview route does through a link without a limit, never as downloads', async () => {
    const binary = await uploadOk(t, randomBytes(64), {
      token: alice.token,
      filename: 'data.bin',
    });
    const link = await create({ fileIds: [picture.id, text.id, binary.id] });
    const token = tokenOf(link);
    const files = (await share(token)).data!.share!.files;
    expect(files.map((f) => f.previewUrl)).toEqual([
      `/s/${token}/files/${picture.id}/preview`,
      `/s/${token}/files/${text.id}/preview`,
      null,
    ]);
    const own = await get(`/files/${text.id}/preview`, { authorization: `Bearer ${alice.token}` });
    const ownBody = await own.text();
    for (let i = 0; i < 3; i++) {
      const res = await get(files[1]!.previewUrl!);
      expect(res.status).toBe(200);
      expectHeadersOf(res, own, ['accept-ranges', 'content-disposition']);
      expect(await res.text()).toBe(ownBody);
    }
    expect(ownBody).toBe('plain words\n');
    const part = await get(files[1]!.previewUrl!, { range: 'bytes=6-10' });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('words');
    const etag = own.headers.get('etag')!;
    expect((await get(files[1]!.previewUrl!, { 'if-none-match': etag })).status).toBe(304);
    const head = await get(files[0]!.previewUrl!, {}, 'HEAD');
    expect([head.status, head.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect((await get(`/s/${token}/files/${binary.id}/preview`)).status).toBe(404);
    expect((await get(`/s/${token}/files/999999/preview`)).status).toBe(404);
    expect((await get(`/s/${token}/files/${text.id}/preview`, {}, 'POST')).status).toBe(405);
    expect(await counts(link.id, text.id)).toMatchObject({ link: 0, file: 0 });

    // A link that counts its downloads shows none: a preview would hand the file over uncounted.
    const limited = await create({ fileIds: [picture.id, text.id], maxDownloads: 5 });
    const limitedToken = tokenOf(limited);
    const limitedFiles = (await share(limitedToken)).data!.share!.files;
    expect(limitedFiles.map((f) => f.previewUrl)).toEqual([null, null]);
    expect(limitedFiles[0]!.thumbnailUrl).not.toBeNull();
    const refused = await get(`/s/${limitedToken}/files/${text.id}/preview`);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toMatch(/counts its downloads/);
    // A browser opening it as a page is sent to the share page, which explains.
    const page = await get(`/s/${limitedToken}/files/${text.id}/preview`, {
      'sec-fetch-dest': 'document',
    });
    expect([page.status, page.headers.get('location')]).toEqual([303, `/s/${limitedToken}`]);
    expect(await counts(limited.id, text.id)).toMatchObject({ link: 0, file: 0 });
    expect((await share(limitedToken)).data!.share!.downloadsLeft).toBe(5);

    // With a password, the proof is needed, and previewUrl carries it.
    const locked = await create({ fileIds: [text.id], password: 'open sesame' });
    const lockedToken = tokenOf(locked);
    expect((await get(`/s/${lockedToken}/files/${text.id}/preview`)).status).toBe(403);
    const lockedUrl = (await share(lockedToken, 'open sesame')).data!.share!.files[0]!.previewUrl!;
    expect(new URL(lockedUrl, t.url).searchParams.get('key')).toBeTruthy();
    expect(await (await get(lockedUrl)).text()).toBe('plain words\n');

    // A file hidden since leaves the link, and its preview with it.
    await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
      { id: text.id },
      { token: admin.token },
    );
    try {
      expect((await get(files[1]!.previewUrl!)).status).toBe(404);
    } finally {
      await t.gql(
        `mutation($id: ID!) { updateFile(id: $id, status: ACTIVE) { id } }`,
        { id: text.id },
        { token: admin.token },
      );
    }
  });

  it('answers every kind of link that does not work with the same bytes', async () => {
    const carol = await t.signUp('carol@example.com');
    const mine = (content: string, token = alice.token) =>
      uploadOk(t, content, { token, filename: 'same.txt' });
    const kinds: Record<string, { token: string; fileId: string }> = {};
    const add = async (
      kind: string,
      file: UploadedFile,
      vars: Record<string, unknown> = {},
      creator = alice.token,
    ) => {
      const link = await create({ fileIds: [file.id], ...vars }, creator);
      kinds[kind] = { token: tokenOf(link), fileId: file.id };
      return link;
    };

    const revoked = await add('revoked', await mine('r'));
    await t.gql(
      `mutation($id: ID!) { revokeShareLink(id: $id) }`,
      { id: revoked.id },
      {
        token: alice.token,
      },
    );
    await add('expired', await mine('e'), { expiresAt: new Date(Date.now() + 1500).toISOString() });
    const used = await mine('u');
    await add('used up', used, { maxDownloads: 1 });
    expect((await get(`/s/${kinds['used up']!.token}/files/${used.id}/download`)).status).toBe(200);
    await add('creator banned', await mine('b', carol.token), {}, carol.token);
    await t.gql(
      `mutation($id: ID!) { banUser(id: $id) { id } }`,
      { id: carol.id },
      {
        token: admin.token,
      },
    );
    const hidden = await mine('h');
    await add('file hidden', hidden);
    await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
      {
        id: hidden.id,
      },
      { token: admin.token },
    );
    const deleted = await mine('d');
    await add('file deleted', deleted);
    await t.gql(
      `mutation($id: ID!) { deleteFile(id: $id) }`,
      { id: deleted.id },
      {
        token: alice.token,
      },
    );
    kinds['unknown'] = { token: 'Qk9ndXNUb2tlbkJvZ3VzVG9rZW5Cb2d1cw', fileId: text.id };
    kinds['malformed'] = { token: 'not-a-token', fileId: text.id };
    kinds['huge'] = { token: 'A'.repeat(5000), fileId: text.id };
    await eventually(
      async () => (await share(kinds['expired']!.token)).data?.share === null,
      10_000,
    );

    // Everything of an answer but what differs for any two requests (its Date and request id).
    const answer = async (res: Response) => {
      const headers = [...res.headers].filter(
        ([name]) => name !== 'date' && name !== 'x-request-id',
      );
      return JSON.stringify({ status: res.status, headers, body: await res.text() });
    };
    const gql = (token: string, password?: string) =>
      fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: SHARE, variables: { token, password } }),
      });
    // Each request names the same file id, so the only difference left is the token.
    const requests: [string, (token: string) => Promise<Response>][] = [
      ['share', (token) => gql(token)],
      ['share with a password', (token) => gql(token, 'a guess')],
      ['download', (token) => get(`/s/${token}/files/${text.id}/download`)],
      ['download HEAD', (token) => get(`/s/${token}/files/${text.id}/download`, {}, 'HEAD')],
      ['download with a key', (token) => get(`/s/${token}/files/${text.id}/download?key=1.x`)],
      ['thumbnail', (token) => get(`/s/${token}/files/${text.id}/thumbnail?size=1024`)],
      ['preview', (token) => get(`/s/${token}/files/${text.id}/preview`)],
      ['zip', (token) => get(`/s/${token}/zip`)],
    ];
    for (const [what, request] of requests) {
      const answers = new Map<string, string[]>();
      for (const [kind, { token }] of Object.entries(kinds)) {
        const got = await answer(await request(token));
        answers.set(got, [...(answers.get(got) ?? []), kind]);
      }
      expect([...answers.values()], what).toEqual([Object.keys(kinds)]);
      const [only] = [...answers.keys()];
      expect(JSON.parse(only!).status, what).toBe(what.startsWith('share') ? 200 : 404);
    }
    expect(await (await gql(kinds['unknown']!.token)).json()).toEqual({ data: { share: null } });
  });

  it('drops a deleted file from its links for good: a restore does not bring it back', async () => {
    const a = await uploadOk(t, 'first of two', { token: alice.token, filename: 'a.txt' });
    const b = await uploadOk(t, 'second of two', { token: alice.token, filename: 'b.txt' });
    const link = await create({ fileIds: [a.id, b.id] });
    const token = tokenOf(link);
    await t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: a.id }, { token: alice.token });
    expect((await share(token)).data!.share!.files.map((f) => f.id)).toEqual([b.id]);
    const restored = await t.gql(
      `mutation($id: ID!) { restoreFile(id: $id) { id status } }`,
      { id: a.id },
      { token: alice.token },
    );
    expect(restored.data).toEqual({ restoreFile: { id: a.id, status: 'ACTIVE' } });
    expect((await share(token)).data!.share!.files.map((f) => f.id)).toEqual([b.id]);
    expect((await get(`/s/${token}/files/${a.id}/download`)).status).toBe(404);
    // Not for its creator or an admin either: the link holds one file now.
    expect((await counts(link.id, a.id)).linkFiles).toEqual([{ id: b.id }]);
  });

  it('refuses a ZIP with a blob missing from storage before counting anything', async () => {
    const a = await uploadOk(t, 'kept in storage', { token: alice.token, filename: 'a.txt' });
    const b = await uploadOk(t, 'lost from storage', { token: alice.token, filename: 'b.txt' });
    const link = await create({ fileIds: [a.id, b.id] });
    const token = tokenOf(link);
    const blob = await findFile(t.dir, b.sha256);
    expect(blob).not.toBeNull();
    await fs.rm(blob!);

    for (const method of ['GET', 'HEAD']) {
      const res = await get(`/s/${token}/zip`, {}, method);
      expect(res.status, method).toBe(404);
      expect(res.headers.get('content-type'), method).toMatch(/^text\/plain/);
      if (method === 'GET') expect(await res.text()).toMatch(/cannot be read/);
    }
    expect(await counts(link.id, a.id)).toMatchObject({ link: 0, file: 0 });
    expect((await counts(link.id, b.id)).file).toBe(0);
    const rows = await t.gql<{ downloads: { totalCount: number } }>(
      `query($f: ID) { downloads(fileId: $f) { totalCount } }`,
      { f: a.id },
      { token: admin.token },
    );
    expect(rows.data!.downloads.totalCount).toBe(0);
    // The file still in storage downloads alone; the other is a clean 404, uncounted.
    expect((await get(`/s/${token}/files/${a.id}/download`)).status).toBe(200);
    expect((await get(`/s/${token}/files/${b.id}/download`)).status).toBe(404);
    expect(await counts(link.id, b.id)).toMatchObject({ link: 1, file: 0 });
  });

  it('takes back the counts of ZIP files whose blob went after the check, keeping the sent one', async () => {
    // The first file is larger than every buffer between server and client, so while the client
    // reads nothing, the ZIP stays inside it and the next blob has not been opened.
    const big = await uploadOk(t, randomBytes(32 << 20), {
      token: alice.token,
      filename: 'big.bin',
    });
    const lost = await uploadOk(t, 'gone mid-way', { token: alice.token, filename: 'lost.txt' });
    const after = await uploadOk(t, 'never reached', { token: alice.token, filename: 'after.txt' });
    const link = await create({ fileIds: [big.id, lost.id, after.id], maxDownloads: 5 });
    const token = tokenOf(link);

    // Counted by now (before the first byte), then the blob goes, then the client reads on.
    const cut = await readZipAfter(`${t.url}/s/${token}/zip`, {}, async () =>
      fs.rm((await findFile(t.dir, lost.sha256))!),
    );
    // A broken download, not a short valid ZIP: the big file's entry came whole, no more.
    expect(cut.complete).toBe(false);
    expect(cut.received).toBeGreaterThan(32 << 20);
    expect(cut.received).toBeLessThan(cut.length);

    // Only the file whose bytes went out is still a download; the others are given back, with
    // their room in the link's limit.
    await eventually(async () => (await counts(link.id, big.id)).link === 1, 20_000);
    expect(await counts(link.id, big.id)).toMatchObject({ link: 1, file: 1 });
    expect((await counts(link.id, lost.id)).file).toBe(0);
    expect((await counts(link.id, after.id)).file).toBe(0);
    const rows = await t.gql<{
      downloads: { edges: { node: { file: { id: string } | null } }[] };
      lost: { lastDownloadedAt: string | null };
    }>(
      `query($l: ID!) { downloads(first: 100) { edges { node { file { id } } } }
        lost: file(id: $l) { lastDownloadedAt } }`,
      { l: lost.id },
      { token: admin.token },
    );
    const ids = rows.data!.downloads.edges.map((e) => e.node.file?.id);
    expect(ids.filter((id) => [big.id, lost.id, after.id].includes(id!))).toEqual([big.id]);
    expect(rows.data!.lost.lastDownloadedAt).toBeNull();
    expect((await share(token)).data!.share!.downloadsLeft).toBe(4);
  });
});
