import { execFileSync } from 'node:child_process';
import { deflateSync, crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { startTestServer, type LogRecord, type TestServer } from '../../../test/harness.js';
import { apiToken } from '../../../test/library.js';
import { countFilesUnder, uploadOk, type UploadedFile } from '../../../test/uploads.js';
import fs from 'node:fs/promises';
import path from 'node:path';

// Thumbnails and previews through the front door: made once, shared by the blob's files, never a
// download, refused for bombs, stripped of metadata, and only for those who may see the file.

const canvas = (width = 400, height = 200) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } });

/** A PNG whose header declares width × height pixels, in a few KB (a decompression bomb). */
function bombPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(4_000_000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A one-page PDF with a red rectangle, 300 × 400 points. */
const PDF = Buffer.from(
  [
    '%PDF-1.1',
    '1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj',
    '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj',
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 400]/Contents 4 0 R>>endobj',
    '4 0 obj<</Length 28>>stream',
    '1 0 0 rg 10 10 200 300 re f',
    'endstream endobj',
    'trailer<</Root 1 0 R>>',
    '',
  ].join('\n'),
);

/** Two seconds of test pattern, 320 × 240 (Debian's ffmpeg makes it, as it reads it). */
const video = () =>
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=2:size=320x240:rate=10',
    '-pix_fmt',
    'yuv420p',
    '-movflags',
    'frag_keyframe+empty_moov',
    '-f',
    'mp4',
    '-',
  ]);

describe('thumbnails and previews', () => {
  let t: TestServer;
  let admin: string;
  let user: string;
  const logs: LogRecord[] = [];
  const made = () => logs.filter((l) => l.msg === 'thumbnail made').length;

  beforeAll(async () => {
    t = await startTestServer({}, { logs });
    admin = (await t.signUp('admin@example.com')).token;
    user = (await t.signUp('user@example.com')).token;
  });
  afterAll(() => t?.close());

  const get = (p: string, token: string | null, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${p}`, {
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });

  const fileInfo = async (id: string, token = user) => {
    const res = await t.gql<{
      file: { thumbnailUrl: string | null; previewUrl: string | null; downloadCount: number };
    }>(
      `query($id: ID!) { file(id: $id) { thumbnailUrl previewUrl downloadCount } }`,
      { id },
      {
        token,
      },
    );
    return res.data!.file;
  };

  it.each([
    ['jpeg', () => canvas().jpeg().toBuffer()],
    ['png', () => canvas().png().toBuffer()],
    ['webp', () => canvas().webp().toBuffer()],
    ['gif', () => canvas().gif().toBuffer()],
    ['avif', () => canvas().avif().toBuffer()],
    ['tiff', () => canvas().tiff().toBuffer()],
    ['pdf', async () => PDF],
    ['mp4', async () => video()],
  ])('makes 256 and 1024 px WebP thumbnails of %s', async (kind, make) => {
    const bytes = await make();
    const file = await uploadOk(t, bytes, { token: user, filename: `picture.${kind}` });
    const info = await fileInfo(file.id);
    expect(info.thumbnailUrl).toBe(`/files/${file.id}/thumbnail?size=256`);
    for (const size of [256, 1024]) {
      const res = await get(`/files/${file.id}/thumbnail?size=${size}`, user);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      expect(meta.format).toBe('webp');
      expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(size);
      expect(Math.max(meta.width, meta.height)).toBeGreaterThan(100);
    }
  });

  it('gives no thumbnail to other types, SVG included', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>';
    for (const [content, filename] of [
      [svg, 'a.svg'],
      ['plain words', 'notes.txt'],
    ] as const) {
      const file = await uploadOk(t, content, { token: user, filename });
      expect((await fileInfo(file.id)).thumbnailUrl).toBeNull();
      expect((await get(`/files/${file.id}/thumbnail`, user)).status).toBe(404);
    }
  });

  it('makes a thumbnail once under 10 concurrent first requests', async () => {
    const file = await uploadOk(t, await canvas(3000, 2000).jpeg().toBuffer(), {
      token: user,
      filename: 'big.jpg',
    });
    const before = made();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => get(`/files/${file.id}/thumbnail?size=1024`, user)),
    );
    const bodies = await Promise.all(answers.map(async (r) => Buffer.from(await r.arrayBuffer())));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(bodies.map((b) => b.toString('base64'))).size).toBe(1);
    expect(made() - before).toBe(1);
    const rows = await t.server.connection.db
      .selectFrom('derived_objects')
      .selectAll()
      .where('sha256', '=', file.sha256)
      .execute();
    expect(rows.map((r) => [r.variant, r.state])).toEqual([['thumb1024', 'ready']]);
  });

  it('takes over a claim whose maker died, and makes the thumbnail', async () => {
    const file = await uploadOk(t, await canvas(300, 300).png().toBuffer(), {
      token: user,
      filename: 'orphan.png',
    });
    const now = Date.now();
    // What an instance killed while making it leaves: a pending row whose claim has lapsed.
    await t.server.connection.db
      .insertInto('derived_objects')
      .values({
        sha256: file.sha256,
        size: file.size,
        variant: 'thumb256',
        state: 'pending',
        claim: 'dead',
        claimed_until: now - 1,
        updated_at: now - 60_000,
      })
      .execute();
    const res = await get(`/files/${file.id}/thumbnail`, user);
    expect(res.status).toBe(200);
    const row = await t.server.connection.db
      .selectFrom('derived_objects')
      .selectAll()
      .where('sha256', '=', file.sha256)
      .executeTakeFirstOrThrow();
    expect([row.state, row.claim]).toEqual(['ready', null]);
  });

  it('reuses one thumbnail for two files with the same bytes, and removes it with them', async () => {
    const bytes = await canvas(640, 480).png().toBuffer();
    const a = await uploadOk(t, bytes, { token: user, filename: 'a.png' });
    const b = await uploadOk(t, bytes, { token: admin, filename: 'b.png' });
    const before = made();
    const first = await get(`/files/${a.id}/thumbnail`, user);
    const second = await get(`/files/${b.id}/thumbnail`, admin);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(Buffer.from(await second.arrayBuffer())).toEqual(Buffer.from(await first.arrayBuffer()));
    expect(made() - before).toBe(1);

    const derived = path.join(t.dir, 'files', 'derived', a.sha256.slice(0, 2));
    // Deleted for good: a file in the trash keeps its blob and so its thumbnails.
    const remove = async (id: string, token: string) => {
      await t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id }, { token });
      await t.gql(`mutation($id: ID!) { purgeFile(id: $id) }`, { id }, { token });
    };
    await remove(a.id, user);
    const left = await countFilesUnder(derived);
    expect(left).toBeGreaterThan(0);
    await remove(b.id, admin);
    expect(await countFilesUnder(derived)).toBeLessThan(left);
  });

  it('does not remember a blob gone from storage as an image that gives no thumbnail', async () => {
    const bytes = await canvas(300, 200).jpeg().toBuffer();
    const file = await uploadOk(t, bytes, { token: user, filename: 'vanishing.jpg' });
    const blob = path.join(
      t.dir,
      'files',
      'blobs',
      file.sha256.slice(0, 2),
      file.sha256.slice(2, 4),
      file.sha256,
    );
    await fs.rename(blob, `${blob}.away`);
    // Turned away as a download of it is (a file deleted for good while its thumbnail was made
    // meets the same), not a server error.
    const failed = await get(`/files/${file.id}/thumbnail`, user);
    expect(failed.status).toBe(404);
    expect(await failed.text()).toBe('The file content is missing.');
    expect((await get(`/files/${file.id}`, user)).status).toBe(404);
    // A passing failure: nothing is remembered, and the bytes back give the thumbnail.
    expect((await fileInfo(file.id)).thumbnailUrl).not.toBeNull();
    await fs.rename(`${blob}.away`, blob);
    const res = await get(`/files/${file.id}/thumbnail`, user);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
  });

  it('refuses a decompression bomb without trying again, and stays up', async () => {
    const bomb = bombPng(100_000, 100_000);
    expect(bomb.length).toBeLessThan(16 * 1024);
    const file = await uploadOk(t, bomb, { token: user, filename: 'bomb.png' });
    expect(file.mimeType).toBe('image/png');
    expect((await get(`/files/${file.id}/thumbnail`, user)).status).toBe(404);
    const refusals = logs.filter((l) => l.msg === 'no thumbnail').length;
    expect((await get(`/files/${file.id}/thumbnail`, user)).status).toBe(404);
    expect(logs.filter((l) => l.msg === 'no thumbnail').length).toBe(refusals);
    expect((await fileInfo(file.id)).thumbnailUrl).toBeNull();
    expect((await get('/healthz', null)).status).toBe(200);
  });

  it('applies EXIF orientation and strips every metadata (no GPS) from thumbnails', async () => {
    const jpeg = await canvas(400, 200)
      .jpeg()
      .withExif({
        IFD0: { Make: 'Cabinet' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 24/1' },
      })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const source = await sharp(jpeg).metadata();
    expect(source.exif?.includes(Buffer.from([0x25, 0x88]))).toBe(true); // GPS IFD pointer
    const file = await uploadOk(t, jpeg, { token: user, filename: 'gps.jpg' });
    const res = await get(`/files/${file.id}/thumbnail`, user);
    const thumb = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(thumb).metadata();
    expect([meta.width, meta.height]).toEqual([128, 256]);
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(thumb.includes(Buffer.from('Cabinet'))).toBe(false);
  });

  it('answers 304 to a matching ETag, and HEAD without a body', async () => {
    const file = await uploadOk(t, await canvas().webp().toBuffer(), {
      token: user,
      filename: 'etag.webp',
    });
    for (const route of [`/files/${file.id}/thumbnail?size=256`, `/files/${file.id}/preview`]) {
      const first = await get(route, user);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(first.headers.get('cache-control')).toBe('private, no-cache');
      const again = await get(route, user, { 'if-none-match': etag });
      expect(again.status).toBe(304);
      const head = await fetch(`${t.url}${route}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${user}` },
      });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    }
  });

  it('serves previews inline with Range, safe types only, and counts no download', async () => {
    const audio = Buffer.concat([
      Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00'),
      Buffer.alloc(4000, 1),
    ]);
    const mp3 = await uploadOk(t, audio, { token: user, filename: 'song.mp3' });
    const info = await fileInfo(mp3.id);
    expect(info.previewUrl).toBe(`/files/${mp3.id}/preview`);
    const part = await get(info.previewUrl!, user, { range: 'bytes=0-9' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-9/${audio.length}`);
    expect(part.headers.get('content-type')).toBe(mp3.mimeType);
    expect(part.headers.get('x-content-type-options')).toBe('nosniff');
    expect(part.headers.get('content-disposition')).toMatch(/^inline; /);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(audio.subarray(0, 10));
    const whole = await get(info.previewUrl!, user);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(audio);

    const pdf = await uploadOk(t, PDF, { token: user, filename: 'doc.pdf' });
    const pdfRes = await get(`/files/${pdf.id}/preview`, user);
    expect(pdfRes.headers.get('content-type')).toBe('application/pdf');
    expect(pdfRes.headers.get('content-security-policy')).toBe('sandbox');

    // Markup is shown as text, never rendered; unknown bytes get no preview.
    const html = await uploadOk(t, '<script>alert(1)</script>', {
      token: user,
      filename: 'x.html',
    });
    const htmlRes = await get(`/files/${html.id}/preview`, user);
    expect(htmlRes.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const blob = await uploadOk(t, Buffer.from([0, 1, 2, 3, 255]), { token: user, filename: 'x' });
    expect((await fileInfo(blob.id)).previewUrl).toBeNull();
    expect((await get(`/files/${blob.id}/preview`, user)).status).toBe(404);

    await get(`/files/${pdf.id}/thumbnail`, user);
    for (const f of [mp3, pdf, html]) expect((await fileInfo(f.id)).downloadCount).toBe(0);
    const history = await t.gql<{ myDownloads: { totalCount: number } }>(
      '{ myDownloads { totalCount } }',
      {},
      { token: user },
    );
    expect(history.data?.myDownloads.totalCount).toBe(0);
  });

  it('keeps a hidden file’s thumbnail and preview from users, and needs DOWNLOAD', async () => {
    const hidden: UploadedFile = await uploadOk(t, await canvas().png().toBuffer(), {
      token: admin,
      filename: 'hidden.png',
      status: 'HIDDEN',
    });
    for (const route of ['thumbnail', 'preview']) {
      expect((await get(`/files/${hidden.id}/${route}`, user)).status).toBe(404);
      expect((await get(`/files/${hidden.id}/${route}`, null)).status).toBe(401);
      expect((await get(`/files/${hidden.id}/${route}`, admin)).status).toBe(200);
    }
    const readOnly = await apiToken(t, user, ['READ']);
    const mine = await uploadOk(t, await canvas().png().toBuffer(), { token: user });
    expect((await get(`/files/${mine.id}/thumbnail`, readOnly)).status).toBe(403);
    const downloader = await apiToken(t, user, ['DOWNLOAD']);
    expect((await get(`/files/${mine.id}/thumbnail`, downloader)).status).toBe(200);
  });

  it('answers malformed requests with codes', async () => {
    const file = await uploadOk(t, await canvas().png().toBuffer(), { token: user });
    expect((await get(`/files/${file.id}/thumbnail?size=99`, user)).status).toBe(400);
    expect((await get(`/files/${file.id}/thumbnail?size=${'9'.repeat(5000)}`, user)).status).toBe(
      400,
    );
    expect((await get(`/files/0/thumbnail`, user)).status).toBe(404);
    expect((await get(`/files/99999999/preview`, user)).status).toBe(404);
    expect((await get(`/files/abc/preview`, user)).status).toBe(404);
    const post = await fetch(`${t.url}/files/${file.id}/preview`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user}` },
    });
    expect(post.status).toBe(405);
    const range = await get(`/files/${file.id}/preview`, user, { range: 'bytes=99999-' });
    expect(range.status).toBe(416);
  });
});

describe('the time limit per thumbnail', () => {
  let t: TestServer;
  let user: string;
  const logs: LogRecord[] = [];

  // 1 ms: no tool gets as far as its first output, so every PDF or video runs past the limit.
  beforeAll(async () => {
    t = await startTestServer({ THUMBNAIL_TIMEOUT_SECONDS: '0.001' }, { logs });
    user = (await t.signUp('admin@example.com')).token;
  });
  afterAll(() => t?.close());

  const get = (p: string) =>
    fetch(`${t.url}${p}`, { headers: { authorization: `Bearer ${user}` } });

  it.each([
    ['pdf', async () => PDF],
    ['mp4', async () => video()],
  ])('gives a %s that runs past it no thumbnail, remembered, and stays up', async (kind, make) => {
    const file = await uploadOk(t, await make(), { token: user, filename: `slow.${kind}` });
    expect((await get(`/files/${file.id}/thumbnail`)).status).toBe(404);
    const refusals = logs.filter((l) => l.msg === 'no thumbnail');
    expect(refusals.at(-1)?.reason).toMatch(/stopped \(SIGKILL\)/);
    expect((await get(`/files/${file.id}/thumbnail?size=256`)).status).toBe(404);
    expect(logs.filter((l) => l.msg === 'no thumbnail').length).toBe(refusals.length);
    const info = await t.gql<{ file: { thumbnailUrl: string | null } }>(
      `query($id: ID!) { file(id: $id) { thumbnailUrl } }`,
      { id: file.id },
      { token: user },
    );
    expect(info.data?.file.thumbnailUrl).toBeNull();
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  });

  it('refuses a limit that is not a positive number of seconds', () => {
    expect(loadConfig({ THUMBNAIL_TIMEOUT_SECONDS: '0.5' }).thumbnailTimeoutMs).toBe(500);
    expect(loadConfig({}).thumbnailTimeoutMs).toBe(30_000);
    for (const value of ['0', '-1', 'soon', '3601'])
      expect(() => loadConfig({ THUMBNAIL_TIMEOUT_SECONDS: value })).toThrow(
        /THUMBNAIL_TIMEOUT_SECONDS/,
      );
  });
});
