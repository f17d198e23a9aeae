import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Upload, type HttpRequest, type UploadOptions } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresDatabase, startTestServer, type TestServer } from './harness.js';
import { countFilesUnder, eventually, PNG, rawRequest, storageUnderTest } from './uploads.js';
import { MAX_OPEN_UPLOADS } from '../src/modules/uploads/uploads.service.js';

// Resumable uploads over tus, driven by the real client library (tus-js-client) where a client
// would, and by raw requests for what a well-behaved client never sends.

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const FILE = `query($id: ID!) { file(id: $id) { id name size sha256 mimeType status tags { name } } }`;
const TOKEN = `mutation($name: String!, $scopes: [ApiScope!]!) {
  createApiToken(name: $name, scopes: $scopes) { token } }`;
// tus-js-client retries 409/423 (another request still holds the upload) after these delays.
const RETRIES = [50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000];

const b64 = (s: string) => Buffer.from(s).toString('base64');
const tusHeaders = (token: string, extra: Record<string, string> = {}) => ({
  'tus-resumable': '1.0.0',
  authorization: `Bearer ${token}`,
  ...extra,
});

/** Runs one tus-js-client upload to its end; resolves with the Cabinet-File-Id it got. */
function finish(upload: Upload): Promise<string> {
  return new Promise((resolve, reject) => {
    upload.options.onSuccess = ({ lastResponse }) =>
      resolve(lastResponse.getHeader('Cabinet-File-Id') ?? '');
    upload.options.onError = reject;
    upload.start();
  });
}

/**
 * Resolves a turn after `req` has closed. tus-js-client ignores the error of an aborted request
 * only while the upload stays aborted: once `start()` has run again it takes that error for a
 * failure of the new attempt and retries, a second attempt beside the new one that later aborts
 * do not stop and that outlives the test.
 */
function closed(req: http.ClientRequest | null): Promise<void> {
  return new Promise((resolve) => {
    const later = () => setImmediate(resolve);
    if (!req || req.closed) later();
    else req.once('close', later);
  });
}

/**
 * Starts a tus-js-client upload and aborts it once at least `cut` bytes were sent; resolves with
 * the upload (its URL known) once aborted and its request closed.
 */
function uploadUntil(upload: Upload, cut: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let last: HttpRequest | null = null;
    let finished = false;
    upload.options.onBeforeRequest = (req) => {
      last = req;
    };
    upload.options.onProgress = (sent) => {
      if (sent < cut) return;
      upload.options.onProgress = null;
      // A PATCH's first progress is reported before the PATCH is sent: an abort then finds no
      // request to stop and the PATCH goes out anyway, so the abort waits a turn. By then the
      // upload may be done (its last progress comes with the answer): the next start is not cut.
      setImmediate(() => {
        if (finished) return;
        const req = (last?.getUnderlyingObject() ?? null) as http.ClientRequest | null;
        void upload
          .abort()
          .then(() => closed(req))
          .then(resolve, reject);
      });
    };
    upload.options.onSuccess = () => {
      finished = true;
      resolve();
    };
    upload.options.onError = reject;
    upload.start();
  });
}

function tusUpload(
  t: TestServer,
  token: string,
  bytes: Buffer,
  options: Partial<UploadOptions> = {},
) {
  return new Upload(bytes, {
    endpoint: `${t.url}/uploads`,
    headers: { authorization: `Bearer ${token}` },
    metadata: { filename: 'big.bin', tags: 'Resumed,Tus' },
    retryDelays: RETRIES,
    ...options,
  });
}

async function download(t: TestServer, token: string, id: string): Promise<Buffer> {
  const res = await fetch(`${t.url}/files/${id}/download`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

async function createUpload(
  t: TestServer,
  token: string,
  length: number,
  metadata = `filename ${b64('a.bin')}`,
) {
  const res = await fetch(`${t.url}/uploads`, {
    method: 'POST',
    headers: tusHeaders(token, { 'upload-length': String(length), 'upload-metadata': metadata }),
  });
  expect(res.status).toBe(201);
  return new URL(res.headers.get('location')!, t.url).toString();
}

const patch = (url: string, token: string, offset: number, body: Buffer) =>
  fetch(url, {
    method: 'PATCH',
    headers: tusHeaders(token, {
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    }),
    body: new Uint8Array(body),
  });

/**
 * An upload as a kill -9 between storing its last byte and making its file leaves it: every byte
 * saved (offset = length, the hash state after them), no file, no lock. Made by sending `bytes`
 * to a longer upload and then shortening it to them; resolves with the upload's URL.
 */
async function leftCompleteByCrash(
  t: TestServer,
  token: string,
  bytes: Buffer,
  filename = 'a.bin',
): Promise<string> {
  const url = await createUpload(t, token, bytes.length + 40, `filename ${b64(filename)}`);
  expect((await patch(url, token, 0, bytes)).status).toBe(204);
  await t.server.connection.db
    .updateTable('upload_sessions')
    .set({ length: bytes.length })
    .where('id', '=', url.split('/').pop()!)
    .execute();
  return url;
}

const head = (url: string, token: string) =>
  fetch(url, { method: 'HEAD', headers: tusHeaders(token) });

/** Bytes of unfinished uploads on the local disk (`<tempKey>.upload`). */
async function partialFiles(t: TestServer): Promise<string[]> {
  const names = await fs.readdir(path.join(t.dir, 'files', 'tmp')).catch(() => []);
  return names.filter((n) => n.endsWith('.upload'));
}

describe('resumable uploads (tus)', () => {
  let t: TestServer;
  let admin: string;
  let user: string;
  beforeAll(async () => {
    t = await startTestServer({ MAX_UPLOAD_BYTES: String(64 * 1024 * 1024) });
    admin = (await t.signUp('admin@example.com')).token;
    user = (await t.signUp('user@example.com')).token;
  });
  afterAll(() => t?.close());

  it('announces the protocol and its extensions', async () => {
    const res = await fetch(`${t.url}/uploads`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-version')).toBe('1.0.0');
    expect(res.headers.get('tus-extension')).toBe(
      'creation,creation-with-upload,termination,expiration',
    );
    expect(res.headers.get('tus-max-size')).toBe(String(64 * 1024 * 1024));
    // The web app's PATCH size, 8 MiB unless UPLOAD_CHUNK_BYTES says otherwise.
    expect(res.headers.get('cabinet-chunk-size')).toBe(String(8 * 1024 * 1024));
  });

  it('ends with the exact bytes and SHA-256 after cuts at random offsets', async () => {
    const bytes = randomBytes(20 * 1024 * 1024 + 12345);
    const started = Date.now();
    const upload = tusUpload(t, user, bytes);
    const cuts = [0, 0, 0]
      .map(() => Math.floor(Math.random() * bytes.length))
      .sort((a, b) => a - b);
    for (const cut of cuts) await uploadUntil(upload, cut);
    const id = await finish(upload);
    expect(id).toMatch(/^\d+$/);
    const file = await t.gql<{ file: Record<string, unknown> }>(FILE, { id }, { token: user });
    expect(file.data?.file).toMatchObject({
      name: 'big.bin',
      size: bytes.length,
      sha256: sha(bytes),
      mimeType: 'application/octet-stream',
      status: 'ACTIVE',
      tags: [{ name: 'Resumed' }, { name: 'Tus' }],
    });
    expect(sha(await download(t, user, id))).toBe(sha(bytes));
    // One upload however often it was cut. A client that takes an answer to its HEAD for "gone"
    // starts the file again as a new upload, and a cut during that POST leaves an upload it never
    // heard of; the partial files below show that only when the timing is unlucky.
    const sessions = await t.server.connection.db
      .selectFrom('upload_sessions')
      .select('id')
      .where('created_at', '>=', started)
      .execute();
    expect(sessions).toEqual([{ id: upload.url!.split('/').pop() }]);
    expect(await partialFiles(t)).toEqual([]);
  });

  it('uploads in chunks, sniffs the type and takes no type tag when tags are given empty', async () => {
    const upload = tusUpload(t, user, PNG, {
      chunkSize: 10,
      metadata: { filename: 'pixel', tags: '' },
    });
    const id = await finish(upload);
    const file = await t.gql<{ file: Record<string, unknown> }>(FILE, { id }, { token: user });
    expect(file.data?.file).toMatchObject({ mimeType: 'image/png', tags: [], sha256: sha(PNG) });
  });

  it('finishes an empty upload at creation', async () => {
    const res = await fetch(`${t.url}/uploads`, {
      method: 'POST',
      headers: tusHeaders(user, {
        'upload-length': '0',
        'upload-metadata': `filename ${b64('e')}`,
      }),
    });
    expect(res.status).toBe(201);
    const id = res.headers.get('cabinet-file-id')!;
    const file = await t.gql<{ file: { size: number } }>(FILE, { id }, { token: user });
    expect(file.data?.file.size).toBe(0);
  });

  it('creates with an upload in the same request', async () => {
    const bytes = Buffer.from('created with its bytes');
    const res = await fetch(`${t.url}/uploads`, {
      method: 'POST',
      headers: tusHeaders(user, {
        'upload-length': String(bytes.length),
        'upload-metadata': `filename ${b64('c.txt')}`,
        'content-type': 'application/offset+octet-stream',
      }),
      body: bytes,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('upload-offset')).toBe(String(bytes.length));
    const id = res.headers.get('cabinet-file-id')!;
    expect((await download(t, user, id)).equals(bytes)).toBe(true);
  });

  it('answers a wrong Upload-Offset with 409 and keeps the bytes', async () => {
    const url = await createUpload(t, user, 10);
    expect((await patch(url, user, 0, Buffer.from('abcd'))).status).toBe(204);
    const wrong = await patch(url, user, 2, Buffer.from('zz'));
    expect(wrong.status).toBe(409);
    expect(
      ((await wrong.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
        .code,
    ).toBe('CONFLICT');
    expect((await head(url, user)).headers.get('upload-offset')).toBe('4');
    const done = await patch(url, user, 4, Buffer.from('efghij'));
    expect(done.status).toBe(204);
    const id = done.headers.get('cabinet-file-id')!;
    expect((await download(t, user, id)).toString()).toBe('abcdefghij');
    // The completing answer may have been lost: asking again says it is done.
    const again = await head(url, user);
    expect(again.headers.get('upload-offset')).toBe('10');
    expect(again.headers.get('cabinet-file-id')).toBe(id);
  });

  it('asks a client resuming while the file is being committed to retry (423), not to start again', async () => {
    const bytes = Buffer.from('0123456789');
    const url = await createUpload(t, user, bytes.length);
    expect((await patch(url, user, 0, bytes.subarray(0, 4))).status).toBe(204);
    // The state of an upload whose last bytes arrived and whose file is being committed.
    const db = t.server.connection.db;
    const id = url.split('/').pop()!;
    const committing = () =>
      db
        .updateTable('upload_sessions')
        .set({ upload_offset: bytes.length, lock_token: 'x', locked_until: Date.now() + 60_000 })
        .where('id', '=', id)
        .execute();
    await committing();
    const res = await head(url, user);
    expect(res.status).toBe(423);
    // tus-js-client takes any other 4xx to a HEAD as "gone" and uploads the file again as a new
    // upload: it must retry this one. Once it has been told to wait, the commit "fails".
    let released: Promise<unknown> | null = null;
    const upload = tusUpload(t, user, bytes, {
      uploadUrl: url,
      onShouldRetry: (err) => {
        if (err.originalResponse?.getStatus() === 423) {
          released ??= db
            .updateTable('upload_sessions')
            .set({ upload_offset: 4, lock_token: null, locked_until: null })
            .where('id', '=', id)
            .execute();
        }
        return true;
      },
    });
    const fileId = await finish(upload);
    expect(released).not.toBeNull();
    expect(upload.url).toBe(url);
    expect((await download(t, user, fileId)).toString()).toBe('0123456789');
    expect((await head(url, user)).headers.get('cabinet-file-id')).toBe(fileId);
  });

  it('refuses a PATCH past Upload-Length with 413 and stores nothing', async () => {
    // A PATCH from offset 0 sent without a length (chunked), in these pieces.
    const patchChunked = (url: string, parts: Buffer[]) =>
      rawRequest(`${t.url}/uploads/${url.split('/').pop()!}`, {
        method: 'PATCH',
        headers: {
          ...tusHeaders(user, {
            'upload-offset': '0',
            'content-type': 'application/offset+octet-stream',
          }),
          'transfer-encoding': 'chunked',
        },
        parts,
      });
    const url = await createUpload(t, user, 8);
    const declared = await patch(url, user, 0, Buffer.from('0123456789'));
    expect(declared.status).toBe(413);
    // Sent without a length (chunked): found out while reading.
    const chunked = await patchChunked(url, [Buffer.from('01234'), Buffer.from('56789')]);
    expect(chunked.status).toBe(413);
    expect((await head(url, user)).headers.get('upload-offset')).toBe('0');
    const [partial] = await partialFiles(t).then((names) => names.filter(Boolean));
    expect(partial).toBeDefined();
    for (const name of await partialFiles(t)) {
      const stat = await fs.stat(path.join(t.dir, 'files', 'tmp', name));
      expect(stat.size).toBe(0);
    }
    await fetch(url, { method: 'DELETE', headers: tusHeaders(user) });

    // Longer than the disk's write pieces, sent chunked: nothing of it reaches the partial file.
    const before = new Set(await partialFiles(t));
    const bigUrl = await createUpload(t, user, 3 * 1024 * 1024);
    const long = await patchChunked(bigUrl, [
      randomBytes(2 * 1024 * 1024),
      randomBytes(1024 * 1024 + 10),
    ]);
    expect(long.status).toBe(413);
    expect((await head(bigUrl, user)).headers.get('upload-offset')).toBe('0');
    const added = (await partialFiles(t)).filter((name) => !before.has(name));
    expect(added).toHaveLength(1);
    expect((await fs.stat(path.join(t.dir, 'files', 'tmp', added[0]!))).size).toBe(0);
    await fetch(bigUrl, { method: 'DELETE', headers: tusHeaders(user) });
  });

  it('answers a second PATCH with 409 while one is still sending, and keeps the bytes whole', async () => {
    const segment = 8 * 1024 * 1024;
    const bytes = randomBytes(segment + 10);
    const url = await createUpload(t, user, bytes.length);
    const first = http.request(url, {
      method: 'PATCH',
      headers: tusHeaders(user, {
        'upload-offset': '0',
        'content-type': 'application/offset+octet-stream',
        'content-length': String(bytes.length),
      }),
    });
    const answered = new Promise<number>((resolve, reject) => {
      first.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      first.on('error', reject);
    });
    first.write(bytes.subarray(0, segment + 5));
    // Once a whole segment is stored the first request holds the upload, mid-body.
    let offset = 0;
    await eventually(async () => {
      offset = Number((await head(url, user)).headers.get('upload-offset'));
      return offset > 0;
    }, 30_000);
    const second = await patch(url, user, offset, bytes.subarray(offset));
    expect(second.status).toBe(409);
    first.end(bytes.subarray(segment + 5));
    expect(await answered).toBe(204);
    const id = (await head(url, user)).headers.get('cabinet-file-id')!;
    expect(sha(await download(t, user, id))).toBe(sha(bytes));
  });

  it('removes the bytes on termination', async () => {
    const url = await createUpload(t, user, 100);
    expect((await patch(url, user, 0, Buffer.alloc(50, 1))).status).toBe(204);
    expect(await partialFiles(t)).toHaveLength(1);
    const res = await fetch(url, { method: 'DELETE', headers: tusHeaders(user) });
    expect(res.status).toBe(204);
    expect((await head(url, user)).status).toBe(404);
    expect(await partialFiles(t)).toEqual([]);
  });

  it('answers a finishing PATCH whose bytes were handed on before a crash with NOT_FOUND, leaving nothing', async () => {
    // As a kill -9 in the middle of finishing leaves it: every byte saved (offset = length), the
    // partial file already handed on to be the file, no file made. The client's empty PATCH to
    // finish must get a coded answer and the upload must go, not a 500 on every retry.
    const url = await leftCompleteByCrash(t, user, Buffer.alloc(60, 7));
    for (const name of await partialFiles(t)) await fs.rm(path.join(t.dir, 'files', 'tmp', name));
    const res = await patch(url, user, 60, Buffer.alloc(0));
    expect(res.status).toBe(404);
    expect((await head(url, user)).status).toBe(404);
    expect(await partialFiles(t)).toEqual([]);
  });

  it('finishes on a HEAD an upload whose bytes were all saved before a crash, so a tus client gets its file', async () => {
    // What a kill -9 between saving the last bytes and making the file leaves: offset = length,
    // the partial file whole, its hash state saved, no file, no lock. tus-js-client resuming it
    // sees offset = length, calls it done and sends nothing more: the HEAD must make the file.
    const bytes = randomBytes(60);
    const url = await leftCompleteByCrash(t, user, bytes);
    const id = await finish(tusUpload(t, user, bytes, { uploadUrl: url }));
    expect(id).toMatch(/^\d+$/);
    expect((await download(t, user, id)).equals(bytes)).toBe(true);
    expect((await head(url, user)).headers.get('cabinet-file-id')).toBe(id);
    expect(await partialFiles(t)).toEqual([]);
  });

  it('makes one file when several HEADs find such an upload at once', async () => {
    const bytes = randomBytes(40);
    const url = await leftCompleteByCrash(t, user, bytes, 'heads.bin');
    const answers = await Promise.all(Array.from({ length: 6 }, () => head(url, user)));
    // Each finished it, found it finished, or was told to ask again while another finished it.
    for (const res of answers) expect([200, 423]).toContain(res.status);
    const ids = new Set(answers.map((r) => r.headers.get('cabinet-file-id')).filter(Boolean));
    expect(ids.size).toBe(1);
    const files = await t.server.connection.db
      .selectFrom('files')
      .select('id')
      .where('name', '=', 'heads.bin')
      .execute();
    expect(files.map((f) => String(f.id))).toEqual([...ids]);
    expect(await partialFiles(t)).toEqual([]);
  });

  it('sweeps expired uploads with their bytes', async () => {
    const url = await createUpload(t, user, 100);
    expect((await patch(url, user, 0, Buffer.alloc(30, 1))).status).toBe(204);
    const expires = Date.parse((await head(url, user)).headers.get('upload-expires')!);
    expect(expires).toBeGreaterThan(Date.now() + 23 * 3_600_000);
    expect(await t.server.app.uploads.sweepExpired(Date.now())).toBe(0);
    // Finished uploads of the tests before go too (their rows only).
    expect(await t.server.app.uploads.sweepExpired(expires + 1_000)).toBeGreaterThanOrEqual(1);
    expect((await head(url, user)).status).toBe(404);
    expect(await partialFiles(t)).toEqual([]);
  });

  it('holds at most MAX_OPEN_UPLOADS unfinished uploads a user, then answers 429 until one ends', async () => {
    const hoarder = (await t.signUp('hoarder@example.com')).token;
    const open: string[] = [];
    // In batches: each creation makes a partial object, and the limit holds however they arrive.
    while (open.length < MAX_OPEN_UPLOADS) {
      const batch = Math.min(20, MAX_OPEN_UPLOADS - open.length);
      open.push(
        ...(await Promise.all(Array.from({ length: batch }, () => createUpload(t, hoarder, 10)))),
      );
    }
    const more = () =>
      fetch(`${t.url}/uploads`, {
        method: 'POST',
        headers: tusHeaders(hoarder, {
          'upload-length': '10',
          'upload-metadata': `filename ${b64('more.bin')}`,
        }),
      });
    const refused = await Promise.all(Array.from({ length: 5 }, more));
    for (const res of refused) {
      expect(res.status).toBe(429);
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      const body = (await res.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(body.errors[0]!.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter });
    }
    const sessions = async () =>
      (
        await t.server.connection.db
          .selectFrom('upload_sessions')
          .innerJoin('users', 'users.id', 'upload_sessions.user_id')
          .select('upload_sessions.id')
          .where('users.email', '=', 'hoarder@example.com')
          .execute()
      ).length;
    expect(await sessions()).toBe(MAX_OPEN_UPLOADS);
    // A finished upload no longer counts; neither does a cancelled one.
    expect((await patch(open[0]!, hoarder, 0, Buffer.alloc(10, 1))).status).toBe(204);
    expect((await fetch(open[1]!, { method: 'DELETE', headers: tusHeaders(hoarder) })).status).toBe(
      204,
    );
    const again = [await more(), await more()];
    expect(again.map((r) => r.status)).toEqual([201, 201]);
    expect((await more()).status).toBe(429);
    // Another user is not held by the first one's uploads.
    await fetch(await createUpload(t, user, 10), { method: 'DELETE', headers: tusHeaders(user) });

    // Ended, every one leaves nothing behind (the later tests count what is left).
    const urls = [
      ...open.slice(2),
      ...again.map((r) => new URL(r.headers.get('location')!, t.url).toString()),
    ];
    for (const url of urls) {
      expect((await fetch(url, { method: 'DELETE', headers: tusHeaders(hoarder) })).status).toBe(
        204,
      );
    }
    expect(await sessions()).toBe(1); // the finished one, kept for its HEAD until it expires
  });

  it('keeps uploads private to their owner', async () => {
    const url = await createUpload(t, user, 10);
    expect((await head(url, admin)).status).toBe(404);
    expect((await patch(url, admin, 0, Buffer.from('x'))).status).toBe(404);
    expect((await fetch(url, { method: 'DELETE', headers: tusHeaders(admin) })).status).toBe(404);
    expect((await head(url, user)).status).toBe(200);
    await fetch(url, { method: 'DELETE', headers: tusHeaders(user) });
  });

  it('refuses bad credentials, missing CSRF, bad metadata and garbage headers with codes', async () => {
    const code = async (res: Response) =>
      ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions
        .code;
    const post = (headers: Record<string, string>) =>
      fetch(`${t.url}/uploads`, { method: 'POST', headers });
    const ok = { 'upload-length': '5', 'upload-metadata': `filename ${b64('x')}` };

    let res = await post({ 'tus-resumable': '1.0.0', ...ok });
    expect([res.status, await code(res)]).toEqual([403, 'FORBIDDEN']); // no x-requested-with
    res = await post({ 'tus-resumable': '1.0.0', 'x-requested-with': 'x', ...ok });
    expect([res.status, await code(res)]).toEqual([401, 'UNAUTHENTICATED']);
    res = await post({ ...tusHeaders('not-a-token'), ...ok });
    expect([res.status, await code(res)]).toEqual([401, 'UNAUTHENTICATED']);
    // A session cookie needs the CSRF header too.
    res = await post({ 'tus-resumable': '1.0.0', cookie: `cabinet_session=${user}`, ...ok });
    expect([res.status, await code(res)]).toEqual([403, 'FORBIDDEN']);
    res = await post({
      'tus-resumable': '1.0.0',
      cookie: `cabinet_session=${user}`,
      'x-requested-with': 'fetch',
      ...ok,
    });
    expect(res.status).toBe(201);
    const readOnly = await t.gql<{ createApiToken: { token: string } }>(
      TOKEN,
      { name: 'ro', scopes: ['READ'] },
      { token: user },
    );
    res = await post({ ...tusHeaders(readOnly.data!.createApiToken.token), ...ok });
    expect([res.status, await code(res)]).toEqual([403, 'FORBIDDEN']);

    res = await post({ 'tus-resumable': '0.2.2', ...ok });
    expect([res.status, await code(res)]).toEqual([412, 'BAD_USER_INPUT']);
    const bad: Record<string, string>[] = [
      { 'upload-length': '-1' },
      { 'upload-length': '1e3' },
      { 'upload-length': '99999999999999999999' },
      { 'upload-length': '' },
      { 'upload-metadata': 'filename' },
      { 'upload-metadata': 'filename !!!' },
      { 'upload-metadata': `filename ${b64('a\nb')}` },
      { 'upload-metadata': `filename ${Buffer.from([0xff, 0xfe]).toString('base64')}` },
      { 'upload-metadata': `filename ${b64('a')},filename ${b64('b')}` },
      { 'upload-metadata': `filename ${b64('a')},tags ${b64(',')}` },
      { 'upload-metadata': `filename ${b64('a')},status ${b64('GONE')}` },
      { 'upload-metadata': `name ${b64('x'.repeat(256))}` },
      { 'upload-metadata': 'a'.repeat(9000) },
      { 'upload-defer-length': '1' },
    ];
    for (const headers of bad) {
      res = await post({ ...tusHeaders(user), ...ok, ...headers });
      expect([res.status, await code(res), headers]).toEqual([400, 'BAD_USER_INPUT', headers]);
    }
    res = await post({ ...tusHeaders(user), 'upload-length': '5' });
    expect([res.status, await code(res)]).toEqual([400, 'BAD_USER_INPUT']);
    res = await post({
      ...tusHeaders(user),
      ...ok,
      'upload-metadata': `filename ${b64('a')},status ${b64('HIDDEN')}`,
    });
    expect([res.status, await code(res)]).toEqual([403, 'FORBIDDEN']); // status: admins only
    res = await post({ ...tusHeaders(user), ...ok, 'upload-length': String(64 * 1024 * 1024 + 1) });
    expect([res.status, await code(res)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);

    const url = await createUpload(t, user, 5);
    res = await fetch(url, {
      method: 'PATCH',
      headers: tusHeaders(user, { 'upload-offset': '0', 'content-type': 'text/plain' }),
      body: 'hello',
    });
    expect([res.status, await code(res)]).toEqual([415, 'BAD_USER_INPUT']);
    for (const offset of ['', 'x', '-1', '1.5', '0x0']) {
      res = await fetch(url, {
        method: 'PATCH',
        headers: tusHeaders(user, {
          'upload-offset': offset,
          'content-type': 'application/offset+octet-stream',
        }),
        body: 'hello',
      });
      expect([res.status, await code(res)]).toEqual([400, 'BAD_USER_INPUT']);
    }
    res = await fetch(`${t.url}/uploads/..%2f..%2fetc`, {
      method: 'HEAD',
      headers: tusHeaders(user),
    });
    expect(res.status).toBe(404);
    res = await fetch(`${t.url}/uploads`, { method: 'GET', headers: tusHeaders(user) });
    expect([res.status, await code(res)]).toEqual([405, 'BAD_USER_INPUT']);
    // Nothing any refusal created is left but the three uploads created on purpose above.
    expect((await partialFiles(t)).length).toBeLessThanOrEqual(3);
  });
});

describe('resuming across a restart', () => {
  it('continues an upload on a new server process over the same database and store', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-tus-'));
    const env = {
      DATABASE_URL: `sqlite:${path.join(dir, 'db.sqlite')}`,
      FILES_DIR: path.join(dir, 'files'),
    };
    const bytes = randomBytes(12 * 1024 * 1024 + 7);
    const first = await startTestServer(env);
    const token = (await first.signUp('me@example.com')).token;
    const upload = tusUpload(first, token, bytes, { chunkSize: 5 * 1024 * 1024 });
    await uploadUntil(upload, 6 * 1024 * 1024);
    const url = upload.url!;
    await first.close();

    const second = await startTestServer(env);
    try {
      const offset = Number(
        (await head(url.replace(first.url, second.url), token)).headers.get('upload-offset'),
      );
      expect(offset).toBeGreaterThanOrEqual(5 * 1024 * 1024);
      const resumed = tusUpload(second, token, bytes, {
        uploadUrl: url.replace(first.url, second.url),
        chunkSize: 5 * 1024 * 1024,
      });
      const id = await finish(resumed);
      expect(sha(await download(second, token, id))).toBe(sha(bytes));
      expect(await countFilesUnder(path.join(dir, 'files', 'tmp'))).toBe(0);
    } finally {
      await second.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

// Two servers on one PostgreSQL database and one S3 store (npm run test:pg): an upload started
// on one instance finishes on the other, which never saw its first bytes.
describe.skipIf(!process.env.TEST_DATABASE_URL)('resuming through a second instance', () => {
  it('finishes on instance B what instance A started, with the exact SHA-256', async () => {
    const s3 = await storageUnderTest('s3');
    const database = (await createPostgresDatabase())!;
    const env = { ...s3.env, DATABASE_URL: database.url };
    const a = await startTestServer(env);
    const b = await startTestServer(env);
    try {
      const token = (await a.signUp('me@example.com')).token;
      const bytes = randomBytes(13 * 1024 * 1024 + 3);
      // 3 MiB chunks: under S3's 5 MiB part minimum, so a tail waits in the state in between.
      const upload = tusUpload(a, token, bytes, { chunkSize: 3 * 1024 * 1024 });
      await uploadUntil(upload, 7 * 1024 * 1024);
      const onB = upload.url!.replace(a.url, b.url);
      expect(Number((await head(onB, token)).headers.get('upload-offset'))).toBeGreaterThan(0);
      const id = await finish(
        tusUpload(b, token, bytes, { uploadUrl: onB, chunkSize: 3 * 1024 * 1024 }),
      );
      expect(sha(await download(a, token, id))).toBe(sha(bytes));
      const file = await b.gql<{ file: { sha256: string } }>(FILE, { id }, { token });
      expect(file.data?.file.sha256).toBe(sha(bytes));
      expect(await s3.countTemp(a)).toBe(0);
    } finally {
      await b.close();
      await a.close();
      await database.drop();
      await s3.close();
    }
  });
});

describe('resumable uploads behind a proxy that limits request bodies', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ UPLOAD_CHUNK_BYTES: '1048576' });
  });
  afterAll(() => t?.close());

  it('announces the chunk size the operator set', async () => {
    const res = await fetch(`${t.url}/uploads`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('cabinet-chunk-size')).toBe('1048576');
  });
});
