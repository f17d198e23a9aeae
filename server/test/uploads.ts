import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import dc from 'node:diagnostics_channel';
import fs from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import type { GraphQLResponse, TestServer } from './harness.js';
import { startLocalS3, type LocalS3 } from './s3.js';

// Helpers for tests of uploads and downloads through the front door: GraphQL multipart requests
// (https://github.com/jaydenseric/graphql-multipart-request-spec) built by hand, raw requests for
// the cases fetch cannot express (a declared length, a client that walks away), and a look at
// what the storage holds.

export const UPLOAD = `mutation($file: Upload!, $name: String, $tags: [String!], $status: FileStatus) {
  uploadFile(file: $file, name: $name, tags: $tags, status: $status) {
    id name originalName size mimeType sha256 status downloadCount downloadUrl
    tags { name } uploadedBy { id }
  } }`;

export interface UploadedFile {
  id: string;
  name: string;
  originalName: string;
  size: number;
  mimeType: string;
  sha256: string;
  status: string;
  downloadCount: number;
  downloadUrl: string;
  tags: { name: string }[];
  uploadedBy: { id: string } | null;
}

export interface UploadOptions {
  filename?: string;
  name?: string;
  tags?: string[];
  status?: string;
  /** Bearer token; omit to send none. */
  token?: string;
  headers?: Record<string, string>;
  /** The type the client claims; the server must not believe it. */
  type?: string;
}

/** The three parts of a multipart upload request, as FormData. */
export function uploadForm(content: Buffer | string, options: UploadOptions = {}): FormData {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: UPLOAD,
      variables: {
        file: null,
        name: options.name ?? null,
        tags: options.tags ?? null,
        status: options.status ?? null,
      },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  form.set(
    '0',
    new Blob([new Uint8Array(bytes)], { type: options.type ?? 'application/octet-stream' }),
    options.filename ?? 'file.bin',
  );
  return form;
}

/** Uploads through `uploadFile` with fetch, as the web app does. */
export async function upload(
  t: TestServer,
  content: Buffer | string,
  options: UploadOptions = {},
): Promise<GraphQLResponse<{ uploadFile: UploadedFile }>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers,
    body: uploadForm(content, options),
  });
  const text = await res.text();
  let body: object;
  try {
    body = JSON.parse(text) as object;
  } catch {
    throw new Error(`Non-JSON response ${res.status}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, headers: res.headers, ...body } as GraphQLResponse<never>;
}

/** Uploads and returns the file, failing loudly on any error. */
export async function uploadOk(
  t: TestServer,
  content: Buffer | string,
  options: UploadOptions = {},
): Promise<UploadedFile> {
  const res = await upload(t, content, options);
  if (!res.data?.uploadFile) throw new Error(`upload failed: ${JSON.stringify(res.errors)}`);
  return res.data.uploadFile;
}

/** The raw multipart body of `uploadForm`, with its content type, to send by other means. */
export async function multipartBody(
  content: Buffer | string,
  options: UploadOptions = {},
): Promise<{ body: Buffer; contentType: string }> {
  const request = new Request('http://localhost/', {
    method: 'POST',
    body: uploadForm(content, options),
  });
  return {
    body: Buffer.from(await request.arrayBuffer()),
    contentType: request.headers.get('content-type')!,
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** How many of the request's parts had been written when the response began. */
  partsSent: number;
}

// The test server runs in this process: the server's end of each connection, by the client's
// port, shows how much of a request it has read (Node's own `net.server.socket` channel).
const serverEnds = new Map<number, net.Socket>();
dc.subscribe('net.server.socket', (message) => {
  const { socket } = message as { socket: net.Socket };
  const port = socket.remotePort;
  if (port === undefined) return;
  serverEnds.set(port, socket);
  socket.once('close', () => {
    if (serverEnds.get(port) === socket) serverEnds.delete(port);
  });
});

/** Whether the server (in this process) has read every byte `req` has written so far. */
export function serverCaughtUp(req: http.ClientRequest): boolean {
  const mine = req.socket;
  const theirs = mine?.localPort === undefined ? undefined : serverEnds.get(mine.localPort);
  return theirs !== undefined && theirs.bytesRead >= mine!.bytesWritten;
}

/**
 * Sends request headers and then `parts` of a body one by one over one connection, each once the
 * server has read the one before (or, with `gapMs`, a slow client's pace: that long apart), and
 * resolves with the response as soon as it is complete, whether or not the server read
 * everything. Errors after the response (the server cutting the connection) are ignored: that
 * is the behaviour under test.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers: Record<string, string | number>; parts: Buffer[] },
  gapMs?: number,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: options.method ?? 'POST',
      headers: options.headers,
      agent: false,
    });
    let answered = false;
    let sent = 0;
    req.on('response', (res) => {
      answered = true;
      const partsSent = sent;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          partsSent,
        }),
      );
      res.on('error', () => undefined);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    (async () => {
      for (const part of options.parts) {
        if (answered || req.destroyed) return;
        await new Promise<void>((r) => req.write(part, () => r()));
        sent++;
        if (gapMs !== undefined) await new Promise((r) => setTimeout(r, gapMs));
        // A server that stops reading answers (or closes) instead: that ends the wait too.
        else while (!answered && !req.destroyed && !serverCaughtUp(req)) await tick();
      }
      if (!answered && !req.destroyed) req.end();
    })().catch(() => undefined);
  });
}

/**
 * A multipart upload of `content` with no Content-Length (chunked), sent in parts of `partBytes`
 * by `rawRequest`: the server learns the size only by reading, so a limit must stop it mid-stream.
 */
export async function chunkedUpload(
  t: TestServer,
  token: string,
  content: Buffer,
  partBytes: number,
): Promise<RawResponse> {
  const { body, contentType } = await multipartBody(content);
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += partBytes) parts.push(body.subarray(i, i + partBytes));
  return rawRequest(`${t.url}/graphql`, {
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    parts,
  });
}

/**
 * An upload whose Content-Length claims `declaredBytes`, followed by `filler.parts` parts of
 * `filler.partBytes` sent by `rawRequest` for as long as the server reads: for refusals the server
 * must make on the declared length alone (a `partsSent` below `filler.parts` shows it did not wait
 * for the body).
 */
export async function declaredUpload(
  t: TestServer,
  token: string,
  declaredBytes: number,
  filler: { parts: number; partBytes: number },
): Promise<RawResponse> {
  const { contentType } = await multipartBody('x');
  return rawRequest(`${t.url}/graphql`, {
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': contentType,
      'content-length': declaredBytes,
    },
    parts: Array.from({ length: filler.parts }, () => Buffer.alloc(filler.partBytes, 7)),
  });
}

export type StorageKind = 'local' | 's3';

/** A started S3 stand-in (or nothing for local storage) and ways to look inside the store. */
export interface StorageUnderTest {
  kind: StorageKind;
  env: Record<string, string>;
  /** How many temp objects the store holds. */
  countTemp(t: TestServer): Promise<number>;
  /** How many committed blobs the store holds. */
  countBlobs(t: TestServer): Promise<number>;
  close(): Promise<void>;
}

/** How many files a folder holds, subfolders included (0 when it does not exist). */
export async function countFilesUnder(dir: string): Promise<number> {
  let n = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (e.isDirectory()) n += await countFilesUnder(path.join(dir, e.name));
    else n++;
  }
  return n;
}

/** The path of the file named `name` somewhere under `dir`, or null. */
export async function findFile(dir: string, name: string): Promise<string | null> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return full;
    if (entry.isDirectory()) {
      const found = await findFile(full, name);
      if (found) return found;
    }
  }
  return null;
}

export async function storageUnderTest(kind: StorageKind): Promise<StorageUnderTest> {
  if (kind === 'local') {
    return {
      kind,
      env: {},
      countTemp: (t) => countFilesUnder(path.join(t.dir, 'files', 'tmp')),
      countBlobs: (t) => countFilesUnder(path.join(t.dir, 'files', 'blobs')),
      close: async () => undefined,
    };
  }
  const s3: LocalS3 = await startLocalS3();
  const client = new S3Client({
    region: 'us-east-1',
    endpoint: s3.env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const count = async (prefix: string) => {
    const res = await client.send(
      new ListObjectsV2Command({ Bucket: s3.env.S3_BUCKET, Prefix: prefix }),
    );
    return res.KeyCount ?? 0;
  };
  return {
    kind,
    env: s3.env,
    countTemp: () => count('tmp/'),
    countBlobs: () => count('blobs/'),
    close: async () => {
      client.destroy();
      await s3.close();
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A 1×1 transparent PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);
