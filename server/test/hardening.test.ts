import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type LogRecord, type TestServer } from './harness.js';
import { UPLOAD, eventually, multipartBody, rawRequest, uploadOk } from './uploads.js';

// Regression tests for attacks that once crashed, stalled or fooled the server. Each case sends
// what an attacker would, through HTTP, and checks the answer, that the server is still up, and
// that nothing was left behind.

const CRLF = '\r\n';

async function tempFiles(t: TestServer): Promise<string[]> {
  return fs.readdir(path.join(t.dir, 'files', 'tmp')).catch(() => []);
}

async function fileRows(t: TestServer): Promise<number> {
  const row = await t.server.connection.db
    .selectFrom('files')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function healthy(t: TestServer): Promise<boolean> {
  const res = await fetch(`${t.url}/healthz`);
  return res.status === 200;
}

/** Sends `body` as a multipart POST with a Bearer token; resolves with status and parsed body. */
async function postMultipart(
  t: TestServer,
  token: string,
  body: Buffer | string,
  boundary = 'XB',
): Promise<{ status: number; json: { errors?: { extensions?: { code?: string } }[] } }> {
  const res = await rawRequest(`${t.url}/graphql`, {
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': Buffer.byteLength(body),
    },
    parts: [Buffer.from(body)],
  });
  return { status: res.status, json: JSON.parse(res.body) as never };
}

/** A spec-shaped upload body with a chosen file part header and content. */
function uploadBody(options: {
  operations?: string;
  map?: string;
  filename?: string;
  content?: string;
  end?: boolean;
}): string {
  const operations =
    options.operations ?? JSON.stringify({ query: UPLOAD, variables: { file: null } });
  const map = options.map ?? JSON.stringify({ 0: ['variables.file'] });
  return (
    `--XB${CRLF}Content-Disposition: form-data; name="operations"${CRLF}${CRLF}${operations}${CRLF}` +
    `--XB${CRLF}Content-Disposition: form-data; name="map"${CRLF}${CRLF}${map}${CRLF}` +
    `--XB${CRLF}Content-Disposition: form-data; name="0"; filename="${options.filename ?? 'a.txt'}"${CRLF}` +
    `Content-Type: text/plain${CRLF}${CRLF}${options.content ?? 'hello'}${CRLF}` +
    (options.end === false ? '' : `--XB--${CRLF}`)
  );
}

describe('hardening: multipart requests', () => {
  let t: TestServer;
  let token: string;
  const logs: LogRecord[] = [];

  beforeAll(async () => {
    t = await startTestServer({}, { logs });
    token = (await t.signUp('admin@example.com')).token;
  });
  afterAll(() => t.close());

  it('answers a malformed part header with 400 and stays up', async () => {
    const res = await postMultipart(
      t,
      token,
      `--XB${CRLF}bad header${CRLF}${CRLF}x${CRLF}--XB--${CRLF}`,
    );
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await healthy(t)).toBe(true);
  });

  it.each([
    ['NUL', '\u0000'],
    ['DEL', '\u007f'],
    ['ESC', '\u001b'],
  ])('answers a %s byte in a filename with a coded error and stays up', async (_, byte) => {
    const res = await postMultipart(t, token, uploadBody({ filename: `a${byte}b.txt` }));
    expect(res.status).toBeLessThan(500);
    expect(res.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await healthy(t)).toBe(true);
  });

  it('answers a body without its final boundary with BAD_USER_INPUT and keeps nothing', async () => {
    const before = await fileRows(t);
    const res = await postMultipart(t, token, uploadBody({ end: false }));
    expect(res.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await fileRows(t)).toBe(before);
    await eventually(async () => (await tempFiles(t)).length === 0);
  });

  it('survives a malformed request sent while a large upload streams, and leaves no temp file', async () => {
    const big = Buffer.alloc(40 * 1024 * 1024, 7);
    const { body, contentType } = await multipartBody(big, { filename: 'big.bin' });
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 4 * 1024 * 1024) {
      chunks.push(body.subarray(i, i + 4 * 1024 * 1024));
    }
    const large = rawRequest(`${t.url}/graphql`, {
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': contentType,
        'content-length': body.length,
      },
      parts: chunks,
    });
    await eventually(async () => (await tempFiles(t)).length > 0);
    const bad = await postMultipart(
      t,
      token,
      `--XB${CRLF}bad header${CRLF}${CRLF}x${CRLF}--XB--${CRLF}`,
    );
    expect(bad.status).toBe(400);
    const done = await large;
    expect(done.status).toBe(200);
    expect(await healthy(t)).toBe(true);
    await eventually(async () => (await tempFiles(t)).length === 0);
  });

  it('refuses one file mapped to two variables before anything runs', async () => {
    const before = await fileRows(t);
    const twice = `mutation($f: Upload!, $g: Upload!) { a: uploadFile(file: $f) { id } b: uploadFile(file: $g) { id } }`;
    const res = await postMultipart(
      t,
      token,
      uploadBody({
        operations: JSON.stringify({ query: twice, variables: { f: null, g: null } }),
        map: JSON.stringify({ 0: ['variables.f', 'variables.g'] }),
      }),
    );
    expect(res.status).toBe(400);
    expect(res.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await fileRows(t)).toBe(before);
  });

  it('refuses one Upload variable used twice in a document before anything runs', async () => {
    const before = await fileRows(t);
    const twice = `mutation($f: Upload!) { a: uploadFile(file: $f) { id } b: uploadFile(file: $f) { id } }`;
    const res = await postMultipart(
      t,
      token,
      uploadBody({
        operations: JSON.stringify({ query: twice, variables: { f: null } }),
        map: JSON.stringify({ 0: ['variables.f'] }),
      }),
    );
    expect(res.json.errors?.[0], JSON.stringify(res.json)).toMatchObject({
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    expect(res.json.errors?.[0]).toMatchObject({ message: expect.stringMatching(/once/) });
    expect(await fileRows(t)).toBe(before);
    await eventually(async () => (await tempFiles(t)).length === 0);
  });

  it('refuses map paths outside variables or through prototypes', async () => {
    for (const target of ['query', 'variables.__proto__', 'variables.missing', 'variables']) {
      const res = await postMultipart(
        t,
        token,
        uploadBody({ map: JSON.stringify({ 0: [target] }) }),
      );
      expect(res.json.errors?.[0]?.extensions?.code, target).toBe('BAD_USER_INPUT');
    }
    expect(await healthy(t)).toBe(true);
  });

  it('logs a cancelled upload at info, not as an error, and keeps nothing', async () => {
    const before = await fileRows(t);
    const { body, contentType } = await multipartBody(Buffer.alloc(8 * 1024 * 1024, 1));
    const from = logs.length;
    await new Promise<void>((resolve, reject) => {
      const url = new URL(t.url);
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(
          `POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        socket.write(body.subarray(0, 2 * 1024 * 1024), () => resolve());
      });
      socket.on('error', reject);
      // Cut once the server has started storing the file.
      void eventually(async () => (await tempFiles(t)).length > 0).then(() => socket.destroy());
    });
    await eventually(async () =>
      logs.slice(from).some((l) => l.msg === 'upload cancelled by the client'),
    );
    await eventually(async () => (await tempFiles(t)).length === 0);
    expect(logs.slice(from).filter((l) => l.level >= 50)).toEqual([]);
    expect(await fileRows(t)).toBe(before);
  });
});
