import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, countRows } from '../../../test/library.js';
import { eventually, uploadOk, type UploadedFile } from '../../../test/uploads.js';
import { unzip } from '../../../test/unzip.js';
import { zipEntryNames } from '../../http/zip.js';
import { GUESSES_PER_ADDRESS } from './shares.service.js';

const CREATE = `mutation($fileIds: [ID!]!, $expiresAt: DateTime, $password: String,
  $maxDownloads: Int, $note: String) {
  createShareLink(fileIds: $fileIds, expiresAt: $expiresAt, password: $password,
    maxDownloads: $maxDownloads, note: $note) {
    id url hasPassword maxDownloads downloadCount lastUsedAt revoked note createdAt expiresAt
    createdBy { id } files { id name }
  } }`;
const SHARE = `query($token: String!, $password: String) {
  share(token: $token, password: $password) {
    sharedBy note expiresAt downloadsLeft zipUrl
    files { id name size mimeType downloadUrl thumbnailUrl }
  } }`;
const REVOKE = `mutation($id: ID!) { revokeShareLink(id: $id) }`;

interface Link {
  id: string;
  url: string;
  hasPassword: boolean;
  maxDownloads: number | null;
  downloadCount: number;
  lastUsedAt: string | null;
  viewCount?: number;
  lastViewedAt?: string | null;
  revoked: boolean;
  note: string | null;
  files: { id: string; name: string }[];
  createdBy: { id: string } | null;
}
interface PublicShare {
  sharedBy: string;
  note: string | null;
  expiresAt: string | null;
  downloadsLeft: number | null;
  zipUrl: string | null;
  files: {
    id: string;
    name: string;
    size: number;
    mimeType: string;
    downloadUrl: string;
    thumbnailUrl: string | null;
  }[];
}

const tokenOf = (link: Link) => new URL(link.url).pathname.split('/')[2]!;

describe('share links', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let report: UploadedFile;
  let photo: UploadedFile;

  const create = async (vars: Record<string, unknown>, token = alice.token) => {
    const res = await t.gql<{ createShareLink: Link }>(CREATE, vars, { token });
    if (!res.data?.createShareLink) throw new Error(JSON.stringify(res.errors));
    return res.data.createShareLink;
  };
  const share = (token: string, password?: string, headers?: Record<string, string>) =>
    t.gql<{ share: PublicShare | null }>(SHARE, { token, password }, { headers });
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${t.url}${path}`, { method, headers, redirect: 'manual' });
  const linkOf = async (id: string, token = alice.token) => {
    const res = await t.gql<{ shareLinks: { edges: { node: Link }[] } }>(
      `{ shareLinks(all: true, first: 100) { edges { node {
        id downloadCount lastUsedAt revoked hasPassword maxDownloads url note files { id name }
        createdBy { id } } } } }`,
      {},
      { token: token === alice.token ? admin.token : token },
    );
    return res.data!.shareLinks.edges.map((e) => e.node).find((l) => l.id === id)!;
  };

  beforeAll(async () => {
    t = await startTestServer({ TRUST_PROXY: '1' });
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com', { name: 'Alice Example' });
    bob = await t.signUp('bob@example.com');
    report = await uploadOk(t, 'quarterly numbers\n', {
      token: alice.token,
      filename: 'report.txt',
    });
    photo = await uploadOk(t, Buffer.from('not really a photo'), {
      token: alice.token,
      filename: 'Отчёт 2026 — 你好.bin',
    });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('creates a link to own files and opens it without an account', async () => {
    const link = await create({ fileIds: [report.id, photo.id], note: 'For the audit\nThanks' });
    expect(link).toMatchObject({
      hasPassword: false,
      maxDownloads: null,
      downloadCount: 0,
      revoked: false,
      note: 'For the audit\nThanks',
      createdBy: { id: alice.id },
      files: [{ id: report.id }, { id: photo.id }],
    });
    expect(link.url).toMatch(new RegExp(`^${t.url}/s/[A-Za-z0-9_-]{32}$`));
    const res = await share(tokenOf(link));
    expect(res.data?.share).toMatchObject({
      sharedBy: 'Alice Example',
      note: 'For the audit\nThanks',
      downloadsLeft: null,
      zipUrl: `/s/${tokenOf(link)}/zip`,
      files: [
        { id: report.id, name: 'report.txt', size: 18, thumbnailUrl: null },
        { id: photo.id, name: photo.name },
      ],
    });
    // 192 random bits: two links never share a token.
    const again = await create({ fileIds: [report.id] });
    expect(tokenOf(again)).not.toBe(tokenOf(link));
  });

  it('serves a file with the download route’s headers and counts it everywhere', async () => {
    const link = await create({ fileIds: [report.id] });
    const { files } = (await share(tokenOf(link))).data!.share!;
    const url = files[0]!.downloadUrl;
    expect(url).toBe(`/s/${tokenOf(link)}/files/${report.id}/download`);
    const own = await get(report.downloadUrl, { authorization: `Bearer ${alice.token}` });
    await own.arrayBuffer();
    const before = await t.gql<{ file: { downloadCount: number } }>(
      `query($id: ID!) { file(id: $id) { downloadCount } }`,
      { id: report.id },
      { token: admin.token },
    );

    const res = await get(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('quarterly numbers\n');
    for (const h of [
      'etag',
      'accept-ranges',
      'content-type',
      'content-disposition',
      'x-content-type-options',
      'content-security-policy',
      'content-length',
    ]) {
      expect(res.headers.get(h), h).toBe(own.headers.get(h));
    }
    // HEAD, 304 and a later Range part are no downloads; a Range from byte 0 is one.
    expect((await get(url, {}, 'HEAD')).status).toBe(200);
    expect((await get(url, { 'if-none-match': `"${report.sha256}"` })).status).toBe(304);
    const part = await get(url, { range: 'bytes=2-5' });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('arte');
    expect((await get(url, { range: 'bytes=99-' })).status).toBe(416);

    const after = await t.gql<{
      file: {
        downloadCount: number;
        downloads: { edges: { node: { user: null; shareLink: { id: string } | null } }[] };
      };
      downloadStats: { total: number; viaLinks: number };
    }>(
      `query($id: ID!) { file(id: $id) { downloadCount
        downloads(first: 1) { edges { node { user { id } shareLink { id } } } } }
        downloadStats(fileId: $id) { total viaLinks } }`,
      { id: report.id },
      { token: admin.token },
    );
    expect(after.data!.file.downloadCount).toBe(before.data!.file.downloadCount + 1);
    expect(after.data!.file.downloads.edges[0]!.node).toEqual({
      user: null,
      shareLink: { id: link.id },
    });
    expect(after.data!.downloadStats).toEqual({ total: 2, viaLinks: 1 });
    const counted = await linkOf(link.id);
    expect(counted.downloadCount).toBe(1);
    expect(counted.lastUsedAt).not.toBeNull();
  });

  it('lets only the uploader or an admin share, and only ACTIVE files', async () => {
    const bobs = await t.gql(CREATE, { fileIds: [report.id] }, { token: bob.token });
    expect(errorCode(bobs)).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(CREATE, { fileIds: [report.id] }))).toBe('UNAUTHENTICATED');
    expect((await create({ fileIds: [report.id] }, admin.token)).createdBy?.id).toBe(admin.id);
    const hidden = await uploadOk(t, 'secret', { token: admin.token, status: 'HIDDEN' });
    expect(errorCode(await t.gql(CREATE, { fileIds: [hidden.id] }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await t.gql(CREATE, { fileIds: [hidden.id] }, { token: alice.token }))).toBe(
      'NOT_FOUND',
    );
    for (const [vars, field] of [
      [{ fileIds: [] }, 'fileIds'],
      [{ fileIds: [report.id, report.id] }, 'fileIds'],
      [{ fileIds: ['x'] }, 'fileIds'],
      [{ fileIds: [report.id], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ fileIds: [report.id], password: 'abc' }, 'password'],
      [{ fileIds: [report.id], password: 'x'.repeat(257) }, 'password'],
      [{ fileIds: [report.id], maxDownloads: 0 }, 'maxDownloads'],
      [{ fileIds: [report.id], note: 'x'.repeat(1001) }, 'note'],
      [{ fileIds: [report.id], note: 'bell\u0007' }, 'note'],
    ] as const) {
      const res = await t.gql(CREATE, vars, { token: alice.token });
      expect(errorCode(res), JSON.stringify(vars).slice(0, 80)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.fields).toHaveProperty(field);
    }
  });

  it('answers NOT_FOUND, writing nothing, for a file deleted between the check and the insert', async () => {
    const db = t.server.connection.db;
    const vanishing = await uploadOk(t, 'about to go', { token: alice.token });
    // The race made certain: a trigger deletes the file just as its row in the link is written,
    // after createShareLink has checked it. The delete is rolled back with the failed insert.
    const id = Number(vanishing.id);
    const sqlite = t.server.connection.dialect === 'sqlite';
    if (sqlite) {
      await sql`create trigger vanish before insert on share_link_files
        when new.file_id = ${sql.lit(id)}
        begin delete from files where id = new.file_id; end`.execute(db);
    } else {
      await sql`create function vanish() returns trigger language plpgsql as $$
        begin delete from files where id = new.file_id; return new; end $$`.execute(db);
      await sql`create trigger vanish before insert on share_link_files for each row
        when (new.file_id = ${sql.lit(id)}) execute function vanish()`.execute(db);
    }
    try {
      const links = await countRows(t, 'share_links');
      const events = await countRows(t, 'audit_events');
      const res = await t.gql(
        CREATE,
        { fileIds: [report.id, vanishing.id] },
        { token: alice.token },
      );
      expect(errorCode(res)).toBe('NOT_FOUND');
      expect(await countRows(t, 'share_links')).toBe(links);
      expect(await countRows(t, 'audit_events')).toBe(events);
    } finally {
      // On PostgreSQL the trigger goes with its function.
      await (sqlite ? sql`drop trigger vanish` : sql`drop function vanish() cascade`).execute(db);
    }
    // Without the trigger the same files make a link.
    expect((await create({ fileIds: [report.id, vanishing.id] })).files).toHaveLength(2);
  });

  it('takes API tokens with SHARE only', async () => {
    for (const scope of ['READ', 'UPLOAD', 'DOWNLOAD']) {
      const token = await apiToken(t, alice.token, [scope]);
      expect(errorCode(await t.gql(CREATE, { fileIds: [report.id] }, { token }))).toBe('FORBIDDEN');
    }
    const token = await apiToken(t, alice.token, ['SHARE']);
    const link = await create({ fileIds: [report.id] }, token);
    const mine = await t.gql<{ shareLinks: { totalCount: number } }>(
      '{ shareLinks { totalCount } }',
      {},
      { token },
    );
    expect(mine.data!.shareLinks.totalCount).toBeGreaterThan(0);
    expect((await t.gql(REVOKE, { id: link.id }, { token })).data).toEqual({
      revokeShareLink: true,
    });
  });

  it('lists and revokes for the creator and admins only', async () => {
    const link = await create({ fileIds: [report.id] });
    const bobs = await t.gql<{ shareLinks: { totalCount: number } }>(
      '{ shareLinks { totalCount } }',
      {},
      { token: bob.token },
    );
    expect(bobs.data!.shareLinks.totalCount).toBe(0);
    expect(
      errorCode(await t.gql('{ shareLinks(all: true) { totalCount } }', {}, { token: bob.token })),
    ).toBe('FORBIDDEN');
    const byFile = await t.gql<{ shareLinks: { edges: { node: { id: string } }[] } }>(
      `query($f: ID) { shareLinks(fileId: $f, first: 100) { edges { node { id } } } }`,
      { f: photo.id },
      { token: alice.token },
    );
    expect(byFile.data!.shareLinks.edges.map((e) => e.node.id)).not.toContain(link.id);
    expect(errorCode(await t.gql(REVOKE, { id: link.id }, { token: bob.token }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(REVOKE, { id: 'nope' }, { token: bob.token }))).toBe('NOT_FOUND');
    expect((await share(tokenOf(link))).data?.share).not.toBeNull();
    expect((await t.gql(REVOKE, { id: link.id }, { token: admin.token })).data).toEqual({
      revokeShareLink: true,
    });
    expect((await share(tokenOf(link))).data).toEqual({ share: null });
    expect((await get(`/s/${tokenOf(link)}/files/${report.id}/download`)).status).toBe(404);
    expect((await linkOf(link.id)).revoked).toBe(true);
    // A second revocation changes nothing and records nothing.
    await t.gql(REVOKE, { id: link.id }, { token: alice.token });
    const events = await t.gql<{
      auditEvents: {
        edges: { node: { action: string; targetId: string; actor: { id: string } } }[];
      };
    }>(
      `{ auditEvents(first: 100) { edges { node { action targetId actor { id } } } } }`,
      {},
      { token: admin.token },
    );
    const mine = events
      .data!.auditEvents.edges.map((e) => e.node)
      .filter((e) => e.targetId === link.id && e.action.startsWith('share.'));
    expect(mine.map((e) => [e.action, e.actor.id]).sort()).toEqual([
      ['share.create', alice.id],
      ['share.revoke', admin.id],
    ]);
  });

  it('answers unknown, malformed and revoked tokens alike', async () => {
    for (const token of [
      '',
      'x',
      'A'.repeat(32),
      '../../etc',
      '%00',
      'é'.repeat(40),
      'a'.repeat(5000),
    ]) {
      expect((await share(token)).data, token.slice(0, 20)).toEqual({ share: null });
      const res = await get(`/s/${encodeURIComponent(token) || 'x'}/files/1/download`);
      expect(res.status).toBe(404);
      expect((await get(`/s/${encodeURIComponent(token) || 'x'}/zip`)).status).toBe(404);
    }
    // A browser is sent to the share page, which explains.
    const page = await get(`/s/${'A'.repeat(32)}/zip`, { 'sec-fetch-dest': 'document' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/s/${'A'.repeat(32)}`);
  });

  it('stops on expiry, a banned creator, and drops hidden or deleted files one by one', async () => {
    const soon = await create({
      fileIds: [report.id],
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect((await share(tokenOf(soon))).data?.share).not.toBeNull();
    await eventually(async () => (await share(tokenOf(soon))).data?.share === null, 10_000);
    expect((await get(`/s/${tokenOf(soon)}/files/${report.id}/download`)).status).toBe(404);

    const carol = await t.signUp('carol@example.com');
    const a = await uploadOk(t, 'a', { token: carol.token, filename: 'a.txt' });
    const b = await uploadOk(t, 'b', { token: carol.token, filename: 'b.txt' });
    const c = await uploadOk(t, 'c', { token: carol.token, filename: 'c.txt' });
    const link = await create({ fileIds: [a.id, b.id, c.id] }, carol.token);
    const token = tokenOf(link);
    const hide = await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
      { id: a.id },
      { token: admin.token },
    );
    expect(hide.errors).toBeUndefined();
    await t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: b.id }, { token: carol.token });
    const left = (await share(token)).data!.share!;
    expect(left.files.map((f) => f.id)).toEqual([c.id]);
    expect(left.zipUrl).toBeNull();
    expect((await get(`/s/${token}/files/${a.id}/download`)).status).toBe(404);
    expect((await get(`/s/${token}/files/${b.id}/download`)).status).toBe(404);
    expect((await get(`/s/${token}/files/${c.id}/download`)).status).toBe(200);

    const ban = await t.gql(
      `mutation($id: ID!) { banUser(id: $id) { id } }`,
      { id: carol.id },
      {
        token: admin.token,
      },
    );
    expect(ban.errors).toBeUndefined();
    expect((await share(token)).data).toEqual({ share: null });
    expect((await get(`/s/${token}/files/${c.id}/download`)).status).toBe(404);
    await t.gql(
      `mutation($id: ID!) { unbanUser(id: $id) { id } }`,
      { id: carol.id },
      {
        token: admin.token,
      },
    );
    expect((await share(token)).data?.share?.files).toHaveLength(1);
    await t.gql(`mutation($id: ID!) { deleteFile(id: $id) }`, { id: c.id }, { token: admin.token });
    expect((await share(token)).data).toEqual({ share: null });
  });

  it('asks for the password, proves it without putting it in a URL, and rate-limits guesses', async () => {
    const link = await create({ fileIds: [report.id, photo.id], password: 'open sesame' });
    expect(link.hasPassword).toBe(true);
    const token = tokenOf(link);
    const none = await share(token);
    expect(none.errors![0]!.extensions).toMatchObject({
      code: 'FORBIDDEN',
      passwordRequired: true,
    });
    const wrong = await share(token, 'open barley');
    expect(wrong.errors![0]!.extensions).toMatchObject({
      code: 'FORBIDDEN',
      passwordRequired: true,
    });
    expect((await get(`/s/${token}/files/${report.id}/download`)).status).toBe(403);

    const right = await share(token, 'open sesame');
    const files = right.data!.share!.files;
    const url = new URL(files[0]!.downloadUrl, t.url);
    expect(url.toString()).not.toContain('sesame');
    const key = url.searchParams.get('key')!;
    expect(key).toMatch(/^\d+\.[\w-]{43}$/);
    expect((await get(`${url.pathname}${url.search}`)).status).toBe(200);
    expect((await get(`${right.data!.share!.zipUrl}`)).status).toBe(200);
    // The cookie the right password set works for this link's routes only.
    const cookie = right.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^cabinet_share=[^;]+; Path=/s/${token}; .*HttpOnly`));
    const value = cookie.split(';')[0]!;
    expect((await get(url.pathname, { cookie: value })).status).toBe(200);
    // A proof of another link, or a tampered one, proves nothing.
    const other = await create({ fileIds: [report.id], password: 'open sesame' });
    expect((await get(`/s/${tokenOf(other)}/files/${report.id}/download?key=${key}`)).status).toBe(
      403,
    );
    const tampered = key.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await get(`${url.pathname}?key=${tampered}`)).status).toBe(403);

    // Guesses per link and address: the next one past the limit is refused, even the right one;
    // another address still gets its own.
    const from = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < GUESSES_PER_ADDRESS; i++) {
      expect(errorCode(await share(token, `guess ${i}`, from))).toBe('FORBIDDEN');
    }
    const limited = await share(token, 'open sesame', from);
    expect(limited.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    expect(
      (await share(token, 'open sesame', { 'x-forwarded-for': '203.0.113.8' })).data?.share,
    ).not.toBeNull();
  });

  it('counts a view per address and link every 30 minutes, only when the page shows the files', async () => {
    const views = async (id: string) => {
      const res = await t.gql<{ shareLinks: { edges: { node: Link }[] } }>(
        `{ shareLinks(first: 100) { edges { node { id viewCount lastViewedAt downloadCount } } } }`,
        {},
        { token: alice.token },
      );
      return res.data!.shareLinks.edges.map((e) => e.node).find((l) => l.id === id)!;
    };
    const open = await create({ fileIds: [report.id] });
    const locked = await create({ fileIds: [report.id], password: 'open sesame' });
    expect(await views(open.id)).toMatchObject({ viewCount: 0, lastViewedAt: null });
    const before = Date.now();

    // Reloads and a second tab from one address are one view; another address is another,
    // also when both come at once.
    const a = { 'x-forwarded-for': '198.51.100.1' };
    const b = { 'x-forwarded-for': '198.51.100.2' };
    await Promise.all([share(tokenOf(open), undefined, a), share(tokenOf(open), undefined, a)]);
    await share(tokenOf(open), undefined, a);
    await Promise.all([share(tokenOf(open), undefined, b), share(tokenOf(open), undefined, b)]);
    // Two addresses of one IPv6 /64 are one visitor.
    for (const address of ['2001:db8:5:6::1', '2001:db8:5:6::2']) {
      await share(tokenOf(open), undefined, { 'x-forwarded-for': address });
    }
    const seen = await views(open.id);
    expect(seen).toMatchObject({ viewCount: 3, downloadCount: 0 });
    expect(Date.parse(seen.lastViewedAt!)).toBeGreaterThanOrEqual(before - 1000);

    // A password page that has not been unlocked shows nothing: no view until the right one.
    await share(tokenOf(locked), undefined, a);
    await share(tokenOf(locked), 'open barley', a);
    expect((await views(locked.id)).viewCount).toBe(0);
    expect((await share(tokenOf(locked), 'open sesame', a)).data?.share).not.toBeNull();
    expect((await views(locked.id)).viewCount).toBe(1);

    // A revoked link shows nothing either.
    await t.gql(
      `mutation($id: ID!) { revokeShareLink(id: $id) }`,
      { id: open.id },
      {
        token: alice.token,
      },
    );
    expect(
      (await share(tokenOf(open), undefined, { 'x-forwarded-for': '198.51.100.3' })).data,
    ).toEqual({ share: null });
    expect((await views(open.id)).viewCount).toBe(3);
  });

  it('never lets more downloads through than the limit, 20 at once', async () => {
    const link = await create({ fileIds: [report.id], maxDownloads: 10 });
    const url = `/s/${tokenOf(link)}/files/${report.id}/download`;
    const results = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await get(url);
        await res.arrayBuffer();
        return res.status;
      }),
    );
    expect(results.filter((s) => s === 200)).toHaveLength(10);
    expect(results.filter((s) => s === 404)).toHaveLength(10);
    expect((await linkOf(link.id)).downloadCount).toBe(10);
    const rows = await t.gql<{
      downloads: { edges: { node: { shareLink: { id: string } | null } }[] };
    }>(
      `query($f: ID) { downloads(fileId: $f, first: 100) { edges { node { shareLink { id } } } } }`,
      { f: report.id },
      { token: admin.token },
    );
    expect(rows.data!.downloads.edges.filter((e) => e.node.shareLink?.id === link.id)).toHaveLength(
      10,
    );
    expect((await share(tokenOf(link))).data).toEqual({ share: null });
  });

  it('streams every file as one ZIP with UTF-8 names, counting one download per file', async () => {
    const twin = await uploadOk(t, 'another report', {
      token: alice.token,
      filename: 'Report.TXT',
    });
    const link = await create({ fileIds: [report.id, photo.id, twin.id], maxDownloads: 5 });
    const token = tokenOf(link);
    const res = await get(`/s/${token}/zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(await unzip(bytes)).toEqual([
      ['report.txt', Buffer.from('quarterly numbers\n')],
      [photo.name, Buffer.from('not really a photo')],
      ['Report (2).TXT', Buffer.from('another report')],
    ]);
    expect((await linkOf(link.id)).downloadCount).toBe(3);
    // Two left, three files: no ZIP, but single files still.
    expect((await share(token)).data!.share).toMatchObject({ downloadsLeft: 2, zipUrl: null });
    expect((await get(`/s/${token}/zip`)).status).toBe(404);
    expect((await get(`/s/${token}/zip`, {}, 'HEAD')).status).toBe(200);
    expect((await linkOf(link.id)).downloadCount).toBe(3);
    expect((await get(`/s/${token}/files/${twin.id}/download`)).status).toBe(200);
  });

  it('refuses other methods', async () => {
    const link = await create({ fileIds: [report.id] });
    const res = await get(`/s/${tokenOf(link)}/zip`, {}, 'DELETE');
    expect(res.status).toBe(405);
  });
});

describe('ZIP entry names', () => {
  it('keeps names inside the archive and unique ignoring case', () => {
    expect(
      zipEntryNames(['a.txt', 'A.txt', 'a.txt', '../x', 'b/c', '..', 'noext', 'NOEXT']),
    ).toEqual(['a.txt', 'A (2).txt', 'a (3).txt', '.._x', 'b_c', '_', 'noext', 'NOEXT (2)']);
  });
});
