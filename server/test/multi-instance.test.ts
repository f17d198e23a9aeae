import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import sharp from 'sharp';
import { totpCode } from '../src/modules/auth/totp.js';
import { createStorage, type StorageDriver } from '../src/storage/index.js';
import { derivedKey } from '../src/storage/keys.js';
import { createPostgresDatabase, type GraphQLResponse } from './harness.js';
import { startLocalS3, type LocalS3 } from './s3.js';

// Two real server processes (`node server/src/main.ts`, as deployed) on different ports, sharing
// one PostgreSQL database and one blob store, local folder or S3. Nothing is shared between them
// but the database and the store: whatever must hold across instances is checked here through
// one instance and then the other. Runs only with TEST_DATABASE_URL (npm run test:pg).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PER_ADDRESS = 30;
const PASSWORD = 'correct horse battery';

const ME = `{ me { id email downloadCount } }`;
const REGISTER = `mutation($email: String!, $name: String!, $password: String!) {
  register(email: $email, name: $name, password: $password) { token user { id } } }`;
const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token } }`;
const BAN = `mutation($id: ID!) { banUser(id: $id) { id banned } }`;
const CREATE_TOKEN = `mutation($name: String!, $scopes: [ApiScope!]!) {
  createApiToken(name: $name, scopes: $scopes) { token } }`;
const UPLOAD = `mutation($file: Upload!, $tags: [String!]) {
  uploadFile(file: $file, tags: $tags) { id sha256 size } }`;
const DELETE_FILE = `mutation($id: ID!) { deleteFile(id: $id) }`;
const PURGE_FILE = `mutation($id: ID!) { purgeFile(id: $id) }`;
const COUNTS = `query($id: ID!) {
  file(id: $id) { downloadCount lastDownloadedAt tags { name downloadCount }
    downloads(first: 1) { totalCount } }
  downloads(fileId: $id, first: 1) { totalCount }
  downloadStats(fileId: $id, interval: DAY) { total uniqueUsers } }`;

interface Instance {
  url: string;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/** Starts `server/src/main.ts` in a process of its own and waits until it listens. */
async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    // A bound for a machine shared with other builds (tsx compiles the server at each start; two
    // starts at once under a load of 30 took over 30 s), not a target.
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited with ${code}:\n${output}`));
    });
  });
  // Keep draining its output so a chatty instance never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();

  return {
    url,
    async gql(query, variables = {}, options = {}) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        ...options.headers,
      };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as object;
      return { status: res.status, headers: res.headers, ...body } as GraphQLResponse<never>;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

const code = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.code;

/** uploadFile through the GraphQL multipart request spec, as docs/api.md describes it. */
async function upload(
  instance: Instance,
  token: string,
  name: string,
  bytes: Buffer,
  tags?: string[],
): Promise<{ id: string; sha256: string; size: number }> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { file: null, tags } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(`${instance.url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as GraphQLResponse<{
    uploadFile: { id: string; sha256: string; size: number };
  }>;
  if (!body.data?.uploadFile) throw new Error(`upload failed: ${JSON.stringify(body.errors)}`);
  return body.data.uploadFile;
}

async function download(
  instance: Instance,
  token: string,
  id: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(`${instance.url}/files/${id}/download`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(!process.env.TEST_DATABASE_URL).each(['local', 's3'] as const)(
  'two instances on one PostgreSQL database, %s storage',
  (storageKind) => {
    let a: Instance;
    let b: Instance;
    let storage: StorageDriver;
    let dir: string;
    let s3: LocalS3 | null = null;
    let database: { url: string; drop(): Promise<void> } | null = null;
    let admin: { token: string; id: string };

    const signUp = async (via: Instance, email: string) => {
      const res = await via.gql<{ register: { token: string; user: { id: string } } }>(REGISTER, {
        email,
        name: email.split('@')[0],
        password: PASSWORD,
      });
      if (!res.data?.register) throw new Error(`sign-up failed: ${JSON.stringify(res.errors)}`);
      return { token: res.data.register.token, id: res.data.register.user.id };
    };

    beforeAll(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-multi-'));
      database = await createPostgresDatabase();
      s3 = storageKind === 's3' ? await startLocalS3() : null;
      const env = {
        DATABASE_URL: database!.url,
        FILES_DIR: path.join(dir, 'files'),
        ...s3?.env,
        PORT: '0',
        HOST: '127.0.0.1',
        WEB_DIR: '',
        LOG_LEVEL: 'warn',
        AUTH_RATE_PER_ADDRESS: String(PER_ADDRESS),
        // As behind nginx: the per-address test below speaks for several clients.
        TRUST_PROXY: '1',
      };
      storage = await createStorage(loadConfig(env, dir).storage);
      // Both start at once on an empty database: the migrator's lock lets exactly one migrate.
      [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
      expect(a.url).not.toBe(b.url);
      admin = await signUp(a, 'admin@example.com');
    }, 90_000);

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await s3?.close();
      await database?.drop();
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('accepts a session created through one instance on the other', async () => {
      const me = await b.gql<{ me: { id: string } }>(ME, {}, { token: admin.token });
      expect(me.data?.me?.id).toBe(admin.id);
      const login = await b.gql<{ login: { token: string } }>(LOGIN, {
        email: 'admin@example.com',
        password: PASSWORD,
      });
      const again = await a.gql<{ me: { id: string } }>(ME, {}, { token: login.data!.login.token });
      expect(again.data?.me?.id).toBe(admin.id);
    });

    it('ends the sessions and tokens of a user banned through the other instance at once', async () => {
      const mallory = await signUp(b, 'mallory@example.com');
      const created = await b.gql<{ createApiToken: { token: string } }>(
        CREATE_TOKEN,
        { name: 'script', scopes: ['READ'] },
        { token: mallory.token },
      );
      const apiToken = created.data!.createApiToken.token;
      expect((await b.gql<{ me: unknown }>(ME, {}, { token: mallory.token })).data?.me).not.toBe(
        null,
      );
      expect((await b.gql<{ me: unknown }>(ME, {}, { token: apiToken })).data?.me).not.toBe(null);

      const ban = await a.gql<{ banUser: { banned: boolean } }>(
        BAN,
        { id: mallory.id },
        { token: admin.token },
      );
      expect(ban.data?.banUser.banned).toBe(true);

      expect((await b.gql<{ me: unknown }>(ME, {}, { token: mallory.token })).data?.me).toBe(null);
      expect((await b.gql<{ me: unknown }>(ME, {}, { token: apiToken })).data?.me).toBe(null);
      const login = await b.gql(LOGIN, { email: 'mallory@example.com', password: PASSWORD });
      expect(code(login)).toBe('FORBIDDEN');
    });

    it('acts on the other instance at once: a role change, a reset, two-factor turned off', async () => {
      const rae = await signUp(b, 'rae@example.com');
      const USERS = `{ users { totalCount } }`;
      await a.gql(
        `mutation($id: ID!) { setUserRole(id: $id, role: ADMIN) { id } }`,
        { id: rae.id },
        { token: admin.token },
      );
      expect(code(await b.gql(USERS, {}, { token: rae.token }))).toBeUndefined();
      await a.gql(
        `mutation($id: ID!) { setUserRole(id: $id, role: USER) { id } }`,
        { id: rae.id },
        { token: admin.token },
      );
      expect(code(await b.gql(USERS, {}, { token: rae.token }))).toBe('FORBIDDEN');

      // A reset link made through one instance, used through the other, ends her sessions on both.
      const link = await b.gql<{ createPasswordResetLink: string }>(
        `mutation($userId: ID!) { createPasswordResetLink(userId: $userId) }`,
        { userId: rae.id },
        { token: admin.token },
      );
      const resetToken = new URL(link.data!.createPasswordResetLink).hash.slice(1);
      const reset = await a.gql<{ resetPassword: { token: string } }>(
        `mutation($t: String!) { resetPassword(token: $t, password: "a new password 1") { token } }`,
        { t: resetToken },
      );
      expect(reset.errors).toBeUndefined();
      expect((await b.gql<{ me: unknown }>(ME, {}, { token: rae.token })).data?.me).toBe(null);
      const fresh = reset.data!.resetPassword.token;
      expect((await b.gql<{ me: unknown }>(ME, {}, { token: fresh })).data?.me).not.toBe(null);

      // Two-factor on through one instance, turned off by an admin through the other.
      const setup = await a.gql<{ startTotpSetup: { secret: string } }>(
        `mutation { startTotpSetup { secret } }`,
        {},
        { token: fresh },
      );
      await a.gql(
        `mutation($c: String!) { confirmTotp(code: $c) }`,
        { c: totpCode(setup.data!.startTotpSetup.secret) },
        { token: fresh },
      );
      const signIn = (via: Instance) =>
        via.gql(LOGIN, { email: 'rae@example.com', password: 'a new password 1' });
      expect(code(await signIn(b))).toBe('TOTP_REQUIRED');
      await b.gql(
        `mutation($id: ID!) { disableUserTotp(userId: $id) { id } }`,
        { id: rae.id },
        { token: admin.token },
      );
      expect(code(await signIn(a))).toBeUndefined();
    });

    it('counts failed sign-ins for one email across both instances', async () => {
      await signUp(a, 'victim@example.com');
      // Ten failures, alternating: per-process counters would have seen five each.
      for (let i = 0; i < 10; i++) {
        const via = i % 2 ? b : a;
        const res = await via.gql(LOGIN, { email: 'victim@example.com', password: `guess ${i}` });
        expect(code(res)).toBe('BAD_USER_INPUT');
      }
      for (const via of [a, b]) {
        const res = await via.gql(LOGIN, { email: 'victim@example.com', password: PASSWORD });
        expect(code(res)).toBe('RATE_LIMITED');
        expect(res.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(800);
      }
    });

    it('counts sign-in attempts per client address across both instances', async () => {
      const headers = { 'x-forwarded-for': '198.51.100.23' };
      // Invalid sign-ups count as attempts and cost no password hashing.
      const attempt = (via: Instance) =>
        via.gql(REGISTER, { email: 'nope', name: 'x', password: 'short' }, { headers });
      let accepted = 0;
      for (let i = 0; i < PER_ADDRESS * 2 + 2; i++) {
        const res = await attempt(i % 2 ? b : a);
        if (code(res) === 'RATE_LIMITED') break;
        expect(code(res)).toBe('BAD_USER_INPUT');
        accepted++;
      }
      // Exactly the limit, not the limit per instance.
      expect(accepted).toBe(PER_ADDRESS);
      expect(code(await attempt(a))).toBe('RATE_LIMITED');
      expect(code(await attempt(b))).toBe('RATE_LIMITED');
      // Another address (behind the same proxy) is not affected.
      const other = await a.gql(
        REGISTER,
        { email: 'nope', name: 'x', password: 'short' },
        { headers: { 'x-forwarded-for': '198.51.100.24' } },
      );
      expect(code(other)).toBe('BAD_USER_INPUT');
    });

    describe('files', () => {
      let bob: { token: string; id: string };
      let carol: { token: string; id: string };
      let file: { id: string; sha256: string; size: number };
      // Larger than the S3 driver's multipart part size, so the upload takes several parts.
      const bytes = randomBytes(6 * 1024 * 1024 + 123);

      beforeAll(async () => {
        bob = await signUp(b, 'bob@example.com');
        carol = await signUp(a, 'carol@example.com');
      });

      it('makes a thumbnail asked for through both instances at once in one shared object', async () => {
        const png = await sharp({
          create: { width: 900, height: 600, channels: 3, background: { r: 9, g: 99, b: 199 } },
        })
          .png()
          .toBuffer();
        const picture = await upload(a, admin.token, 'picture.png', png, []);
        const answers = await Promise.all(
          Array.from({ length: 8 }, async (_, i) => {
            const res = await fetch(`${(i % 2 ? a : b).url}/files/${picture.id}/thumbnail`, {
              headers: { authorization: `Bearer ${admin.token}` },
            });
            return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
          }),
        );
        expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
        expect(new Set(answers.map((r) => r.bytes.toString('base64'))).size).toBe(1);
        const key = derivedKey(picture.sha256, picture.size, 'thumb256');
        expect((await storage.readDerived(key))?.equals(answers[0]!.bytes)).toBe(true);
        // Deleted for good through the other instance: the thumbnail goes with the blob (while the
        // file is in the trash, both stay).
        expect((await b.gql(DELETE_FILE, { id: picture.id }, { token: admin.token })).errors).toBe(
          undefined,
        );
        expect((await storage.readDerived(key))?.equals(answers[0]!.bytes)).toBe(true);
        expect((await a.gql(PURGE_FILE, { id: picture.id }, { token: admin.token })).errors).toBe(
          undefined,
        );
        expect(await storage.readDerived(key)).toBeNull();
      });

      it('serves a file uploaded through one instance from the other', async () => {
        file = await upload(a, admin.token, 'report.bin', bytes, ['multi']);
        expect(file.sha256).toBe(sha256(bytes));
        expect(file.size).toBe(bytes.length);
        const whole = await download(b, bob.token, file.id);
        expect(whole.status).toBe(200);
        expect(whole.bytes.equals(bytes)).toBe(true);
        // Later Range parts are not new downloads.
        const part = await download(a, bob.token, file.id, { range: 'bytes=100-199' });
        expect(part.status).toBe(206);
        expect(part.bytes.equals(bytes.subarray(100, 200))).toBe(true);
      });

      it('counts concurrent downloads through both instances exactly', async () => {
        // MULTI_DOWNLOADS_PER_USER=60 for a harder run.
        const perUser = Number(process.env.MULTI_DOWNLOADS_PER_USER ?? 12);
        const results = await Promise.all(
          Array.from({ length: perUser * 2 }, (_, i) =>
            i % 2 ? download(a, bob.token, file.id) : download(b, carol.token, file.id),
          ),
        );
        for (const r of results) {
          expect(r.status).toBe(200);
          expect(r.bytes.length).toBe(bytes.length);
        }
        const total = 1 + perUser * 2; // the one download of the previous test, and these
        const counts = await b.gql<{
          file: {
            downloadCount: number;
            lastDownloadedAt: string | null;
            tags: { name: string; downloadCount: number }[];
            downloads: { totalCount: number };
          };
          downloads: { totalCount: number };
          downloadStats: { total: number; uniqueUsers: number };
        }>(COUNTS, { id: file.id }, { token: admin.token });
        expect(counts.errors).toBeUndefined();
        expect(counts.data!.file.downloadCount).toBe(total);
        expect(counts.data!.file.lastDownloadedAt).not.toBe(null);
        expect(counts.data!.file.downloads.totalCount).toBe(total);
        expect(counts.data!.downloads.totalCount).toBe(total);
        expect(counts.data!.file.tags).toEqual([{ name: 'multi', downloadCount: total }]);
        expect(counts.data!.downloadStats).toEqual({ total, uniqueUsers: 2 });
        const bobMe = await a.gql<{ me: { downloadCount: number } }>(ME, {}, { token: bob.token });
        expect(bobMe.data!.me.downloadCount).toBe(1 + perUser);
        const carolMe = await b.gql<{ me: { downloadCount: number } }>(
          ME,
          {},
          { token: carol.token },
        );
        expect(carolMe.data!.me.downloadCount).toBe(perUser);
      });

      // Uploads, deletions and downloads all lock blobs, files, tags, totals and users; in
      // different orders they deadlock on PostgreSQL (found here, fixed in the files module).
      // MULTI_CHURN=40 for a harder run.
      it('keeps tag counters exact under concurrent uploads, downloads and deletes sharing a tag', async () => {
        const rounds = Number(process.env.MULTI_CHURN ?? 12);
        const [kept, ...doomed] = await Promise.all(
          Array.from({ length: rounds + 1 }, (_, i) =>
            upload(i % 2 ? a : b, bob.token, `old-${i}.txt`, randomBytes(1024), ['churn']),
          ),
        );
        const outcomes = await Promise.allSettled([
          ...doomed.map((f, i) =>
            (i % 2 ? b : a).gql(DELETE_FILE, { id: f.id }, { token: bob.token }).then((res) => {
              if (res.errors) throw new Error(`delete: ${JSON.stringify(res.errors)}`);
            }),
          ),
          ...doomed.map((_, i) =>
            upload(i % 2 ? a : b, carol.token, `new-${i}.txt`, randomBytes(1024), ['churn']),
          ),
          ...doomed.map((_, i) =>
            download(i % 2 ? b : a, carol.token, kept!.id).then((res) => {
              if (res.status !== 200) throw new Error(`download: ${res.status}`);
            }),
          ),
        ]);
        const failures = outcomes.flatMap((o) =>
          o.status === 'rejected' ? [String(o.reason)] : [],
        );
        expect(failures).toEqual([]);
        const tags = await a.gql<{
          tags: { edges: { node: { name: string; fileCount: number; downloadCount: number } }[] };
        }>(
          `{ tags(query: "churn") { edges { node { name fileCount downloadCount } } } }`,
          {},
          { token: admin.token },
        );
        expect(tags.data!.tags.edges.map((e) => e.node)).toEqual([
          { name: 'churn', fileCount: rounds + 1, downloadCount: rounds },
        ]);
      });

      // Each instance keeps tags' file ids in memory for tag filters (tag-postings.ts); a change
      // through the other instance must show in the very next count.
      it('counts tag filters on one instance exactly after retagging and hiding on the other', async () => {
        const TAGGED = `query($tagIds: [ID!], $tagMatch: TagMatch) {
          files(tagIds: $tagIds, tagMatch: $tagMatch) { totalCount } }`;
        const UPDATE = `mutation($id: ID!, $tags: [String!], $status: FileStatus) {
          updateFile(id: $id, tags: $tags, status: $status) { id } }`;
        const files = await Promise.all(
          ['p1', 'p2', 'p3'].map((n) =>
            upload(b, bob.token, `${n}.txt`, randomBytes(64), ['plum', 'pear']),
          ),
        );
        const tagRows = await a.gql<{ tags: { edges: { node: { id: string; name: string } }[] } }>(
          `{ tags(query: "p") { edges { node { id name } } } }`,
          {},
          { token: bob.token },
        );
        const id = (name: string) => tagRows.data!.tags.edges.find((e) => e.node.name === name)!;
        const both = [id('plum').node.id, id('pear').node.id];
        const count = async (token: string, tagMatch = 'ALL') => {
          const res = await a.gql<{ files: { totalCount: number } }>(
            TAGGED,
            { tagIds: both, tagMatch },
            { token },
          );
          if (!res.data) throw new Error(JSON.stringify(res.errors));
          return res.data.files.totalCount;
        };
        const update = async (fileId: string, variables: Record<string, unknown>) => {
          const res = await b.gql(UPDATE, { id: fileId, ...variables }, { token: admin.token });
          expect(res.errors).toBeUndefined();
        };
        expect(await count(bob.token)).toBe(3);
        await update(files[0]!.id, { tags: ['plum'] });
        expect(await count(bob.token)).toBe(2);
        expect(await count(bob.token, 'ANY')).toBe(3);
        await update(files[1]!.id, { status: 'HIDDEN' });
        expect(await count(bob.token)).toBe(1);
        expect(await count(admin.token)).toBe(2);
        await update(files[1]!.id, { status: 'ACTIVE' });
        await update(files[0]!.id, { tags: ['plum', 'pear'] });
        expect(await count(bob.token)).toBe(3);
        await b.gql(DELETE_FILE, { id: files[2]!.id }, { token: bob.token });
        expect(await count(bob.token)).toBe(2);
      });

      it('shares one blob between the same bytes uploaded through both at once, until both go', async () => {
        const same = randomBytes(64 * 1024);
        const [one, two] = await Promise.all([
          upload(a, bob.token, 'one.bin', same),
          upload(b, carol.token, 'two.bin', same),
        ]);
        expect(one.id).not.toBe(two.id);
        expect(one.sha256).toBe(two.sha256);
        expect(await storage.exists(one.sha256)).toBe(true);
        expect((await download(b, bob.token, one.id)).bytes.equals(same)).toBe(true);
        expect((await download(a, carol.token, two.id)).bytes.equals(same)).toBe(true);

        // Both deleted at once through different instances: the trash keeps the blob; both purged
        // at once, the last one out removes it.
        const [d1, d2] = await Promise.all([
          a.gql<{ deleteFile: boolean }>(DELETE_FILE, { id: one.id }, { token: bob.token }),
          b.gql<{ deleteFile: boolean }>(DELETE_FILE, { id: two.id }, { token: carol.token }),
        ]);
        expect(d1.data?.deleteFile).toBe(true);
        expect(d2.data?.deleteFile).toBe(true);
        expect(await storage.exists(one.sha256)).toBe(true);
        const [p1, p2] = await Promise.all([
          b.gql<{ purgeFile: boolean }>(PURGE_FILE, { id: one.id }, { token: bob.token }),
          a.gql<{ purgeFile: boolean }>(PURGE_FILE, { id: two.id }, { token: carol.token }),
        ]);
        expect(p1.data?.purgeFile).toBe(true);
        expect(p2.data?.purgeFile).toBe(true);
        expect(await storage.exists(one.sha256)).toBe(false);
        expect((await download(a, bob.token, one.id)).status).toBe(404);
      });
    });
  },
);
