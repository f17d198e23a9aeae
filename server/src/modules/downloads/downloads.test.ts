import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken } from '../../../test/library.js';
import {
  eventually,
  storageUnderTest,
  uploadOk,
  type StorageKind,
  type StorageUnderTest,
  type UploadedFile,
} from '../../../test/uploads.js';
import { parse as parseDisposition } from 'content-disposition';
import { contentDisposition, parseRange } from '../../http/download.js';
import { recordDownload } from './downloads.repository.js';

const CONTENT = '0123456789abcdefghijklmnopqrstuvwxyz';

describe('download route helpers', () => {
  it.each([
    ['bytes=0-4', { start: 0, end: 4 }],
    ['bytes=5-', { start: 5, end: 35 }],
    ['bytes=-3', { start: 33, end: 35 }],
    ['bytes=-100', { start: 0, end: 35 }],
    ['bytes=30-999', { start: 30, end: 35 }],
    ['bytes=36-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-2', null],
    ['bytes=0-1,3-4', null],
    ['items=0-1', null],
    ['bytes=-', null],
    // Edges where range-parser alone would answer otherwise, or where it differs from a strict
    // grammar: a suffix as long as the file, several ranges of which one is satisfiable, another
    // unit with an inverted range, whitespace around the range.
    ['bytes=-36', { start: 0, end: 35 }],
    ['bytes=0-1,99-200', null],
    ['bytes=40-50,0-1', null],
    ['items=5-2', null],
    ['bytes= 0-4 ', { start: 0, end: 4 }],
    ['bytes=abc-', null],
  ])('parses %s against 36 bytes', (header, expected) => {
    expect(parseRange(header, 36)).toEqual(expected);
  });

  it('finds nothing to serve in an empty file', () => {
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
    expect(parseRange('bytes=-5', 0)).toBe('unsatisfiable');
  });

  it.each([
    'plain.txt',
    'quote " and \\ backslash.txt',
    'line\r\nbreak: injected.txt',
    '../../etc/passwd',
    'Отчёт 2026 — 你好 🎉.pdf',
    "it's (100%) *done*; really.txt",
  ])('makes a disposition header that round-trips %j', (name) => {
    const header = contentDisposition(name);
    expect(header).toMatch(
      /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[\w%!#$&+.^`|~-]*$/,
    );
    const fallback = /filename="([^"]*)"/.exec(header)![1]!;
    expect(fallback).not.toMatch(/["\\/%\r\n]/);
    const encoded = /filename\*=UTF-8''(.*)$/.exec(header)![1]!;
    expect(decodeURIComponent(encoded)).toBe(name);
    // A conforming parser prefers filename* and gets the exact name back.
    expect(parseDisposition(header)).toMatchObject({
      type: 'attachment',
      parameters: { filename: name },
    });
  });
});

describe.each<StorageKind>(['local', 's3'])('downloads (%s storage)', (kind) => {
  let store: StorageUnderTest;
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let file: UploadedFile;

  const get = (path: string, token: string | null, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${path}`, {
      headers: token ? { authorization: `Bearer ${token}`, ...headers } : headers,
    });
  const head = (path: string, token: string) =>
    fetch(`${t.url}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });

  async function history(fileId: string) {
    const res = await t.gql<{
      file: {
        downloadCount: number;
        lastDownloadedAt: string | null;
        downloads: { totalCount: number; edges: { node: { fileName: string } }[] };
      };
    }>(
      `query($id: ID!) { file(id: $id) { downloadCount lastDownloadedAt
          downloads(first: 100) { totalCount edges { node { fileName user { id } } } } } }`,
      { id: fileId },
      { token: admin.token },
    );
    return res.data!.file;
  }

  async function userDownloads(token: string) {
    const res = await t.gql<{ me: { downloadCount: number } }>(
      '{ me { downloadCount } }',
      {},
      { token },
    );
    return res.data!.me.downloadCount;
  }

  beforeAll(async () => {
    store = await storageUnderTest(kind);
    t = await startTestServer(store.env);
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
    bob = await t.signUp('bob@example.com');
    file = await uploadOk(t, CONTENT, { token: alice.token, filename: 'alphabet.txt' });
  });
  afterAll(async () => {
    await t.close();
    await store.close();
  });

  it('serves the bytes with length, ETag, ranges, disposition and nosniff, and records the download', async () => {
    const res = await get(file.downloadUrl, bob.token);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(CONTENT);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      'content-length': String(CONTENT.length),
      'content-type': 'text/plain',
      etag: `"${file.sha256}"`,
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
      'content-disposition': `attachment; filename="alphabet.txt"; filename*=UTF-8''alphabet.txt`,
    });
    const h = await history(file.id);
    expect(h.downloadCount).toBe(1);
    expect(h.lastDownloadedAt).not.toBeNull();
    expect(h.downloads.edges[0]!.node).toEqual({ fileName: 'alphabet.txt', user: { id: bob.id } });
    expect(await userDownloads(bob.token)).toBe(1);
  });

  it('answers single ranges with 206, bad ones with 416, and counts only those starting at 0', async () => {
    const before = (await history(file.id)).downloadCount;
    const first = await get(file.downloadUrl, bob.token, { range: 'bytes=0-4' });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe(`bytes 0-4/${CONTENT.length}`);
    expect(first.headers.get('content-length')).toBe('5');
    expect(await first.text()).toBe('01234');
    expect((await history(file.id)).downloadCount).toBe(before + 1);

    const rest = await get(file.downloadUrl, bob.token, { range: 'bytes=5-' });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes 5-35/${CONTENT.length}`);
    expect(await rest.text()).toBe(CONTENT.slice(5));
    const tail = await get(file.downloadUrl, bob.token, { range: 'bytes=-6' });
    expect(await tail.text()).toBe(CONTENT.slice(-6));

    const beyond = await get(file.downloadUrl, bob.token, { range: 'bytes=36-' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${CONTENT.length}`);
    await beyond.arrayBuffer();

    const stale = await get(file.downloadUrl, bob.token, {
      range: 'bytes=5-',
      'if-range': '"something-else"',
    });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(CONTENT);
    expect((await history(file.id)).downloadCount).toBe(before + 2);
  });

  it('answers If-None-Match with 304 and HEAD with headers only, recording neither', async () => {
    const before = (await history(file.id)).downloadCount;
    const cached = await get(file.downloadUrl, bob.token, { 'if-none-match': `"${file.sha256}"` });
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe(`"${file.sha256}"`);
    const headRes = await head(file.downloadUrl, bob.token);
    expect(headRes.status).toBe(200);
    expect(headRes.headers.get('content-length')).toBe(String(CONTENT.length));
    expect(await headRes.text()).toBe('');
    const changed = await get(file.downloadUrl, bob.token, { 'if-none-match': '"other"' });
    expect(changed.status).toBe(200);
    await changed.arrayBuffer();
    expect((await history(file.id)).downloadCount).toBe(before + 1);
  });

  it('matches If-None-Match lists, weak tags and *, also with no-cache', async () => {
    const before = (await history(file.id)).downloadCount;
    const etag = `"${file.sha256}"`;
    for (const ifNoneMatch of [`"a", ${etag}`, `"a",${etag} , "b"`, `W/${etag}`, '*']) {
      const res = await get(file.downloadUrl, bob.token, { 'if-none-match': ifNoneMatch });
      expect(res.status, ifNoneMatch).toBe(304);
      await res.arrayBuffer();
    }
    for (const ifNoneMatch of ['"a", "b"', `"${file.sha256.slice(1)}"`, 'W/"a"']) {
      const res = await get(file.downloadUrl, bob.token, { 'if-none-match': ifNoneMatch });
      expect(res.status, ifNoneMatch).toBe(200);
      await res.arrayBuffer();
    }
    // What fetch() sends with any If-None-Match: the bytes of a hash never change, so still 304.
    const viaFetch = await get(file.downloadUrl, bob.token, {
      'if-none-match': etag,
      'cache-control': 'no-cache',
      pragma: 'no-cache',
    });
    expect(viaFetch.status).toBe(304);
    expect((await history(file.id)).downloadCount).toBe(before + 3);
  });

  it('serves the whole file for several ranges', async () => {
    const res = await get(file.downloadUrl, bob.token, { range: 'bytes=0-1,4-5' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBeNull();
    expect(await res.text()).toBe(CONTENT);
  });

  it('refuses anonymous callers, tokens without DOWNLOAD and banned users; takes the cookie', async () => {
    expect((await get(file.downloadUrl, null)).status).toBe(401);
    expect((await get(file.downloadUrl, 'not-a-token')).status).toBe(401);
    const readOnly = await apiToken(t, bob.token, ['READ']);
    expect((await get(file.downloadUrl, readOnly)).status).toBe(403);
    const downloader = await apiToken(t, bob.token, ['DOWNLOAD']);
    const viaToken = await get(file.downloadUrl, downloader);
    expect(await viaToken.text()).toBe(CONTENT);
    // A plain link in the browser: cookie, no x-requested-with.
    const viaCookie = await get(file.downloadUrl, null, { cookie: `cabinet_session=${bob.token}` });
    expect(await viaCookie.text()).toBe(CONTENT);

    const carol = await t.signUp('carol@example.com');
    await t.gql('mutation($id: ID!) { banUser(id: $id) { id } }', { id: carol.id }, admin);
    expect((await get(file.downloadUrl, carol.token)).status).toBe(401);
  });

  it('is 404 for missing files, malformed ids and HIDDEN files unless admin', async () => {
    expect((await get('/files/999999/download', bob.token)).status).toBe(404);
    expect((await get('/files/abc/download', bob.token)).status).toBe(404);
    expect((await get('/files/..%2F..%2Fetc%2Fpasswd/download', bob.token)).status).toBe(404);
    const hidden = await uploadOk(t, 'top secret', { token: admin.token, status: 'HIDDEN' });
    expect((await get(hidden.downloadUrl, bob.token)).status).toBe(404);
    expect((await head(hidden.downloadUrl, bob.token)).status).toBe(404);
    const ok = await get(hidden.downloadUrl, admin.token);
    expect(await ok.text()).toBe('top secret');
  });

  it('sends a browser that opened a failing link to the web app, API clients keep the code', async () => {
    // node:http rather than fetch(), which adds Sec-Fetch-Mode: cors to every request.
    const opened = (path: string, token: string | null, headers: Record<string, string>) =>
      new Promise<{ status: number; location?: string; type?: string; body: string }>(
        (done, fail) => {
          const auth = token ? { authorization: `Bearer ${token}` } : {};
          http
            .get(`${t.url}${path}`, { headers: { ...auth, ...headers } }, (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (body += chunk));
              res.on('end', () =>
                done({
                  status: res.statusCode!,
                  location: res.headers.location,
                  type: res.headers['content-type'],
                  body,
                }),
              );
            })
            .on('error', fail);
        },
      );
    const navigate = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' };
    for (const [path, token, status] of [
      ['/files/999999/download', bob.token, 404],
      ['/files/abc/download', bob.token, 404],
      [file.downloadUrl, null, 401],
    ] as const) {
      for (const headers of [navigate, { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }]) {
        const res = await opened(path, token, headers);
        expect(res.status, path).toBe(303);
        expect(res.location).toBe(`/file-unavailable?status=${status}`);
      }
      // fetch() from a page, and scripts: the coded plain-text answer.
      const api = await opened(path, token, { 'sec-fetch-mode': 'cors', accept: 'text/html' });
      expect(api.status).toBe(status);
      expect(api.type).toMatch(/^text\/plain/);
      expect((await opened(path, token, {})).status).toBe(status);
      // <a download>: a navigation to `empty`; the browser reports a failed download.
      const saved = await opened(path, token, {
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'empty',
      });
      expect(saved.status).toBe(status);
    }
    const readOnly = await apiToken(t, bob.token, ['READ']);
    const refused = await opened(file.downloadUrl, readOnly, navigate);
    expect(refused.location).toBe('/file-unavailable?status=403');
    // A working link still downloads when opened by the browser.
    const ok = await opened(file.downloadUrl, bob.token, navigate);
    expect(ok.body).toBe(CONTENT);
  });

  it('serves HTML, SVG and script as opaque bytes', async () => {
    for (const [filename, content] of [
      ['page.html', '<!doctype html><script>alert(document.cookie)</script>'],
      ['image.svg', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
      ['code.js', 'alert(1)'],
      ['feed.xml', '<?xml version="1.0"?><x/>'],
    ] as const) {
      const f = await uploadOk(t, content, { token: alice.token, filename });
      const res = await get(f.downloadUrl, alice.token);
      expect(res.headers.get('content-type'), filename).toBe('application/octet-stream');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(content);
    }
  });

  it('gives nasty names a safe Content-Disposition', async () => {
    const name = 'a "quoted" ../../név\\ 📄.txt';
    const f = await uploadOk(t, 'x', { token: alice.token, name });
    const res = await get(f.downloadUrl, alice.token);
    await res.arrayBuffer();
    const header = res.headers.get('content-disposition')!;
    expect(header.startsWith('attachment; filename="a _quoted_ .._.._n_v_ __.txt"; ')).toBe(true);
    expect(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec(header)![1]!)).toBe(name);
  });

  it('keeps the latest lastDownloadedAt when downloads commit out of order', async () => {
    // Two downloads whose transactions commit in the opposite order of their timestamps, as
    // concurrent ones can on PostgreSQL: the later time stays.
    const db = t.server.connection.db;
    const fileId = Number(file.id);
    const userId = Number(bob.id);
    const later = Date.now() + 60_000;
    await recordDownload(db, { fileId, userId, at: later });
    await recordDownload(db, { fileId, userId, at: later - 30_000 });
    expect((await history(file.id)).lastDownloadedAt).toBe(new Date(later).toISOString());
  });

  it('records exactly one row per download under 20 concurrent downloads', async () => {
    const f = await uploadOk(t, 'popular '.repeat(10_000), { token: alice.token });
    const before = await userDownloads(bob.token);
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async () => (await get(f.downloadUrl, bob.token)).text()),
    );
    expect(new Set(bodies.map((b) => b.length))).toEqual(new Set([80_000]));
    const h = await history(f.id);
    expect(h.downloadCount).toBe(20);
    expect(h.downloads.totalCount).toBe(20);
    expect(await userDownloads(bob.token)).toBe(before + 20);
  });

  it('survives clients leaving mid-download: the blob is closed and later downloads are whole', async () => {
    // Several MiB, more than loopback socket buffers hold, so the server is still sending.
    const bytes = randomBytes(24 * 1024 * 1024 + 5);
    const f = await uploadOk(t, bytes, { token: alice.token });
    const blobPath = path.join(t.dir, 'files', 'blobs');
    const openBlobs = async () => {
      let n = 0;
      for (const fd of await fs.readdir('/proc/self/fd').catch(() => [])) {
        const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target.startsWith(blobPath)) n++;
      }
      return n;
    };
    await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<void>((resolve, reject) => {
            const req = http.get(
              `${t.url}${f.downloadUrl}`,
              { headers: { authorization: `Bearer ${bob.token}` } },
              (res) => {
                res.once('data', () => {
                  req.destroy();
                  resolve();
                });
              },
            );
            req.on('error', (err) => (req.destroyed ? resolve() : reject(err)));
          }),
      ),
    );
    if (kind === 'local') await eventually(async () => (await openBlobs()) === 0);
    const whole = Buffer.from(await (await get(f.downloadUrl, bob.token)).arrayBuffer());
    expect(whole.equals(bytes)).toBe(true);
    // Each abandoned download started at byte 0, so each is on the record.
    expect((await history(f.id)).downloadCount).toBe(5);
  });

  it('keeps history through renames and deletion (file null, name kept)', async () => {
    const f = await uploadOk(t, 'history', { token: alice.token, filename: 'before.txt' });
    await (await get(f.downloadUrl, alice.token)).arrayBuffer();
    await t.gql(
      'mutation($id: ID!) { updateFile(id: $id, name: "after.txt") { id } }',
      { id: f.id },
      alice,
    );
    await (await get(f.downloadUrl, alice.token)).arrayBuffer();
    const mine = `{ myDownloads(first: 2) { totalCount edges { node { fileName file { id name } user { id } } } } }`;
    type Mine = {
      myDownloads: {
        totalCount: number;
        edges: { node: { fileName: string; file: { id: string } | null } }[];
      };
    };
    const named = await t.gql<Mine>(mine, {}, alice);
    expect(named.data!.myDownloads.edges.map((e) => e.node)).toEqual([
      { fileName: 'after.txt', file: { id: f.id, name: 'after.txt' }, user: { id: alice.id } },
      { fileName: 'before.txt', file: { id: f.id, name: 'after.txt' }, user: { id: alice.id } },
    ]);
    await t.gql('mutation($id: ID!) { deleteFile(id: $id) }', { id: f.id }, alice);
    const orphaned = await t.gql<Mine>(mine, {}, alice);
    expect(orphaned.data!.myDownloads.edges.map((e) => e.node)).toEqual([
      { fileName: 'after.txt', file: null, user: { id: alice.id } },
      { fileName: 'before.txt', file: null, user: { id: alice.id } },
    ]);
    expect((await get(f.downloadUrl, alice.token)).status).toBe(404);
  });

  it('narrows myDownloads to one file, within the user’s own rows only', async () => {
    const mineOf = `query($fileId: ID, $first: Int, $after: String, $offset: Int) {
      myDownloads(fileId: $fileId, first: $first, after: $after, offset: $offset) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id fileName file { id } user { id } } } } }`;
    type Mine = {
      myDownloads: {
        totalCount: number;
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: { id: string; fileName: string; file: { id: string } | null } }[];
      };
    };
    const mine = async (token: string, vars: Record<string, unknown>) =>
      (await t.gql<Mine>(mineOf, vars, { token })).data!.myDownloads;
    const seen = await uploadOk(t, 'seen', { token: alice.token, filename: 'seen.txt' });
    const other = await uploadOk(t, 'other', { token: alice.token, filename: 'other.txt' });
    const bobs = await uploadOk(t, 'bobs', { token: bob.token, filename: 'bobs.txt' });
    for (const f of [seen, other, seen, seen]) {
      await (await get(f.downloadUrl, alice.token)).arrayBuffer();
    }
    await (await get(seen.downloadUrl, bob.token)).arrayBuffer();
    await (await get(bobs.downloadUrl, bob.token)).arrayBuffer();

    const all = await mine(alice.token, { fileId: seen.id, first: 100 });
    expect(all.totalCount).toBe(3);
    expect(all.edges.map((e) => e.node.file?.id)).toEqual([seen.id, seen.id, seen.id]);
    expect(all.edges.every((e) => e.node.fileName === 'seen.txt')).toBe(true);
    // Paging keeps the filter: two pages of 2 and 1 rows, the same rows in the same order.
    const first = await mine(alice.token, { fileId: seen.id, first: 2 });
    expect(first).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const next = await mine(alice.token, {
      fileId: seen.id,
      first: 2,
      after: first.pageInfo.endCursor,
    });
    expect(next).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: false } });
    expect([...first.edges, ...next.edges].map((e) => e.node.id)).toEqual(
      all.edges.map((e) => e.node.id),
    );
    const skipped = await mine(alice.token, { fileId: seen.id, first: 5, offset: 2 });
    expect(skipped.edges.map((e) => e.node.id)).toEqual([all.edges[2]!.node.id]);
    expect((await mine(alice.token, { fileId: other.id })).totalCount).toBe(1);
    expect((await mine(bob.token, { fileId: seen.id })).totalCount).toBe(1);

    // Another user's file (downloaded by them only) and an id that names nothing answer alike:
    // an empty page, so the filter tells alice nothing about bob's downloads or unknown files.
    for (const fileId of [bobs.id, '987654321']) {
      expect(await mine(alice.token, { fileId })).toEqual({
        totalCount: 0,
        pageInfo: { hasNextPage: false, endCursor: null },
        edges: [],
      });
    }
    const malformed = await t.gql(mineOf, { fileId: 'nope' }, { token: alice.token });
    expect(errorCode(malformed)).toBe('BAD_USER_INPUT');
    // A READ token reads its user's history through the filter too.
    const read = await apiToken(t, alice.token, ['READ']);
    expect((await mine(read, { fileId: seen.id })).totalCount).toBe(3);
  });

  it('lists all downloads for admins and STATS tokens only, filtered by file, user and time', async () => {
    const query = `query($fileId: ID, $userId: ID, $from: DateTime, $to: DateTime) {
      downloads(fileId: $fileId, userId: $userId, from: $from, to: $to, first: 100) {
        totalCount edges { node { fileName user { id } file { id } at } } } }`;
    type Downloads = {
      downloads: {
        totalCount: number;
        edges: { node: { user: { id: string }; file: { id: string } | null; at: string } }[];
      };
    };
    expect(errorCode(await t.gql(query, {}, bob))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(query, {}))).toBe('UNAUTHENTICATED');
    expect(
      errorCode(await t.gql(`{ file(id: "${file.id}") { downloads { totalCount } } }`, {}, bob)),
    ).toBe('FORBIDDEN');
    const all = await t.gql<Downloads>(query, {}, admin);
    const total = all.data!.downloads.totalCount;
    expect(total).toBeGreaterThan(20);
    const byBob = await t.gql<Downloads>(query, { userId: bob.id }, admin);
    expect(byBob.data!.downloads.edges.every((e) => e.node.user.id === bob.id)).toBe(true);
    const ofFile = await t.gql<Downloads>(query, { fileId: file.id }, admin);
    expect(ofFile.data!.downloads.edges.every((e) => e.node.file?.id === file.id)).toBe(true);
    expect(ofFile.data!.downloads.totalCount).toBe((await history(file.id)).downloadCount);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(
      (await t.gql<Downloads>(query, { from: future }, admin)).data!.downloads.totalCount,
    ).toBe(0);
    expect((await t.gql<Downloads>(query, { to: future }, admin)).data!.downloads.totalCount).toBe(
      total,
    );

    const stats = await apiToken(t, admin.token, ['STATS']);
    expect((await t.gql<Downloads>(query, {}, { token: stats })).data!.downloads.totalCount).toBe(
      total,
    );
    const read = await apiToken(t, admin.token, ['READ']);
    expect(errorCode(await t.gql(query, {}, { token: read }))).toBe('FORBIDDEN');
  });
});
