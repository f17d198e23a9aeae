import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import sharp from 'sharp';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { runDoctor, type DoctorReport } from '../src/modules/maintenance/doctor.js';
import { createStorage } from '../src/storage/index.js';
import { multipartBody, uploadForm, type UploadedFile } from '../test/uploads.js';
import { mulberry32 } from '../test/fuzz/random.js';
import { Browser, oidcEnv, passProvider, startProvider } from '../test/sign-on.js';

// `npm run chaos`: the real server as a child process under concurrent uploads (some of several
// MiB, some cut off mid-body), downloads, renames, retags, status changes and deletions by a few
// users, killed with SIGKILL at a random moment and restarted, round after round. Afterwards the
// server is stopped cleanly and the doctor's checks must all pass: database integrity, every
// counter equal to its rows, no orphan or missing blob, nothing left in temp, no intent, no lease.
// Single sign-on runs beside them against a real OpenID provider in this process: first sign-ons
// create or link accounts, OIDC_ADMIN_GROUP changes roles, and a kill may land anywhere in it;
// afterwards no account may lack its identity, no session its user, and the only started
// sign-ins left are ones the kills cut (unexpired, removed by the hourly sweep once they lapse).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'correct horse battery';
const TAGS = ['red', 'green', 'blue', 'shared', 'Ünïcode'];
// Short on PostgreSQL so a killed instance's lease lapses, and its leftovers are swept by the
// next instance, within the run.
const LEASE_SECONDS = 1;
/** People at the test provider: new accounts, one linked to a password account, one admin. */
const SIGN_ON_PEOPLE = {
  'sso-ann': { email: 'ann@sso.example', email_verified: true, name: 'Ann' },
  'sso-ben': { email: 'ben@sso.example', email_verified: false },
  'sso-cho': { email: 'cho@sso.example', email_verified: true, groups: ['cabinet-admins'] },
  'sso-alice': { email: 'alice@example.com', email_verified: true },
} as const;

export interface ChaosOptions {
  rounds: number;
  seed: number;
  /** An admin URL of a PostgreSQL server: the run gets a fresh database there. Else SQLite. */
  postgres?: string | null;
  /** Concurrent clients per round. */
  workers?: number;
  log?: (line: string) => void;
}

export interface RoundResult {
  round: number;
  /** From the start of traffic to the kill. */
  killedAfterMs: number;
  /** From the start of traffic until the restarted server listened again. */
  ms: number;
  ops: number;
  failedByCrash: number;
  /** What the killed process left for the next one to sweep. */
  leftByKill: { temps: number; intents: number };
}

export interface ChaosResult {
  seed: number;
  dialect: 'sqlite' | 'postgres';
  rounds: RoundResult[];
  /** Answers no crash explains: 5xx, wrong bytes, unexpected error codes. */
  unexpected: string[];
  report: DoctorReport;
  /** What the doctor's report cannot show: temp objects, intents and leases still there. */
  leftovers: { temps: number; intents: number; leases: number };
  ok: boolean;
}

interface Rng {
  random: () => number;
  pick<T>(items: readonly T[]): T;
  /** A whole number from lo to hi, both included. */
  between(lo: number, hi: number): number;
}

function rng(seed: number): Rng {
  const random = mulberry32(seed);
  return {
    random,
    pick: (items) => items[Math.floor(random() * items.length)]!,
    between: (lo, hi) => lo + Math.floor(random() * (hi - lo + 1)),
  };
}

interface Child {
  url: string;
  process: ChildProcess;
  exited: Promise<number | string | null>;
  output(): string;
}

/** Starts `server/src/main.ts` as deployed and resolves once it printed where it listens. */
async function startChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // A death by signal is reported by name (a crash, or a signal nobody handled), not as null.
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      // Only the tail matters for a diagnosis; a chatty child must not grow this forever.
      output = (output + chunk.toString()).slice(-20_000);
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return { url, process: child, exited, output: () => output };
}

async function kill(child: Child, signal: NodeJS.Signals): Promise<number | string | null> {
  if (child.process.exitCode === null && child.process.signalCode === null) {
    child.process.kill(signal);
  }
  return child.exited;
}

interface User {
  email: string;
  token: string;
  admin: boolean;
}

interface Known {
  id: string;
  sha256: string;
  owner: string;
}

/** A failure every client sees when the server dies under it. */
const isConnectionError = (err: unknown) => {
  const cause = (err as { cause?: { code?: string } } | null)?.cause?.code;
  const code = (err as { code?: string } | null)?.code;
  return (
    ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET'].includes(cause ?? code ?? '') ||
    (err instanceof Error &&
      /fetch failed|socket hang up|terminated|other side closed/i.test(err.message))
  );
};

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  // The kill moments come from a sequence of their own, so a seed reproduces them exactly; each
  // client of each round has its own sequence of operations too. Which request is in flight when
  // the kill lands still depends on timing.
  const killAt = mulberry32(options.seed);
  const workers = options.workers ?? 6;

  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-chaos-'));
  const database = options.postgres ? await createDatabase(options.postgres) : null;
  const provider = await startProvider();
  for (const [login, person] of Object.entries(SIGN_ON_PEOPLE)) {
    provider.people.set(login, { ...person, groups: 'groups' in person ? [...person.groups] : [] });
  }
  const env: Record<string, string> = {
    ...oidcEnv(provider, { OIDC_ADMIN_GROUP: 'cabinet-admins' }),
    DATABASE_URL: database?.url ?? `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
    FILES_DIR: path.join(dir, 'files'),
    PORT: '0',
    HOST: '127.0.0.1',
    WEB_DIR: '',
    LOG_LEVEL: 'warn',
    AUTH_RATE_PER_ADDRESS: '100000',
    INSTANCE_LEASE_SECONDS: String(LEASE_SECONDS),
    // A resumable upload's lock lasts twice this: a killed server's locks lapse within the run.
    IDLE_TIMEOUT_SECONDS: '3',
  };
  const unexpected: string[] = [];
  const rounds: RoundResult[] = [];
  let child = await startChild(env);
  // Each start listens on a new port: the provider learns the new redirect URI (its in-memory
  // state goes with it, as the killed server's sign-ins did).
  provider.configure([`${child.url}/auth/oidc/callback`]);
  // Opened once the first server migrated; SQLite in WAL mode lets it read beside the server.
  const config = loadConfig(env, dir);
  const connection = openDatabase(config.database);
  const storage = await createStorage(config.storage);
  const leftovers = async () => {
    let temps = 0;
    for await (const _ of storage.listTemp()) temps++;
    const intents = (await connection.db.selectFrom('blob_intents').select('sha256').execute())
      .length;
    const leases = (await connection.db.selectFrom('instances').select('id').execute()).length;
    return { temps, intents, leases };
  };

  try {
    const gql = async <T>(query: string, variables: Record<string, unknown>, token?: string) => {
      const res = await fetch(`${child.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as {
        data?: T;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      return { status: res.status, ...body };
    };

    const users: User[] = [];
    for (const name of ['admin', 'alice', 'bob']) {
      const email = `${name}@example.com`;
      const res = await gql<{ register: { token: string } }>(
        `mutation($email: String!, $name: String!, $password: String!) {
          register(email: $email, name: $name, password: $password) { token } }`,
        { email, name, password: PASSWORD },
      );
      if (!res.data?.register) throw new Error(`register: ${JSON.stringify(res.errors)}`);
      users.push({ email, token: res.data.register.token, admin: name === 'admin' });
    }

    const known: Known[] = [];
    const recentBytes: Buffer[] = [];
    // Each client's unfinished resumable upload, carried across kills and restarts.
    const resumable = new Map<number, { user: User; url: string; bytes: Buffer }>();
    let resumedFinished = 0;
    const tusHeaders = (user: User, extra: Record<string, string> = {}) => ({
      'tus-resumable': '1.0.0',
      authorization: `Bearer ${user.token}`,
      ...extra,
    });
    /**
     * One step of a client's resumable upload: create it, or ask where it is and send the next
     * piece. 409 (another request, or a killed server's lapsing lock, still holds it) and 423 (its
     * file is being committed, or was when a kill landed, until the lock lapses) wait for the next
     * step; a finished upload must carry exactly its bytes. True once it is done.
     */
    const tusStep = async (
      slot: number,
      user: User,
      { between }: Rng,
      note: (what: string, detail: string) => void,
    ): Promise<boolean> => {
      let upload = resumable.get(slot);
      if (!upload) {
        const bytes = randomBytes(between(1, 4 << 20));
        const res = await fetch(`${child.url}/uploads`, {
          method: 'POST',
          headers: tusHeaders(user, {
            'upload-length': String(bytes.length),
            'upload-metadata': `filename ${Buffer.from('resumed.bin').toString('base64')}`,
          }),
        });
        if (res.status !== 201) {
          note('tus create', `status ${res.status}`);
          return false;
        }
        upload = { user, url: new URL(res.headers.get('location')!, child.url).pathname, bytes };
        resumable.set(slot, upload);
      }
      const head = await fetch(`${child.url}${upload.url}`, {
        method: 'HEAD',
        headers: tusHeaders(user),
      });
      if (head.status === 409 || head.status === 423) return false;
      // Lost while finishing when a kill landed in between: nothing of it may remain.
      if (head.status === 404) {
        resumable.delete(slot);
        return false;
      }
      if (head.status !== 200) {
        note('tus head', `status ${head.status}`);
        return false;
      }
      const offset = Number(head.headers.get('upload-offset'));
      let fileId = head.headers.get('cabinet-file-id');
      if (!fileId) {
        const piece = upload.bytes.subarray(offset, offset + between(1, 3 << 20));
        let res: Response;
        try {
          res = await fetch(`${child.url}${upload.url}`, {
            method: 'PATCH',
            headers: tusHeaders(user, {
              'upload-offset': String(offset),
              'content-type': 'application/offset+octet-stream',
            }),
            body: new Uint8Array(piece),
          });
        } catch (err) {
          // A PATCH refused before its body is read (409: the killed server's lock on the upload
          // has not lapsed yet) is answered at once and the server stops reading (lingering
          // close); undici, still sending megabytes, reports that as "other side closed" instead
          // of the answer. That is a refusal like the 409 below: ask again. Anything else throws.
          if ((err as { cause?: { code?: string } }).cause?.code === 'UND_ERR_SOCKET') return false;
          throw err;
        }
        if (res.status === 409 || res.status === 404) return false;
        if (res.status !== 204) {
          note('tus patch', `status ${res.status}`);
          return false;
        }
        fileId = res.headers.get('cabinet-file-id');
      }
      if (!fileId) return false;
      resumable.delete(slot);
      resumedFinished++;
      known.push({ id: fileId, sha256: sha256(upload.bytes), owner: user.email });
      const res = await fetch(`${child.url}/files/${fileId}/download`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
      const stored = Buffer.from(await res.arrayBuffer());
      if (res.status === 200 && sha256(stored) !== sha256(upload.bytes)) {
        note('tus upload', `file ${fileId}: wrong bytes`);
      }
      return true;
    };
    /** A whole sign-on as `login`; it must end at '/' with a session answering for them. */
    const signOnAs = async (
      login: keyof typeof SIGN_ON_PEOPLE,
      note: (what: string, detail: string) => void,
    ) => {
      const browser = new Browser();
      const start = await browser.request(`${child.url}/auth/oidc/start`);
      await start.arrayBuffer();
      const to = start.headers.get('location') ?? '';
      if (start.status !== 302 || !to.startsWith(provider.issuer)) {
        return note('sign-on start', `${start.status} ${to}`);
      }
      const callback = await passProvider(browser, to, login, child.url);
      const done = await browser.request(callback);
      await done.arrayBuffer();
      if (done.headers.get('location') !== '/') {
        return note('sign-on', `${done.status} ${done.headers.get('location')}`);
      }
      const cookie = browser.cookies(child.url).get('cabinet_session');
      const me = await fetch(`${child.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: `cabinet_session=${cookie}`,
        },
        body: JSON.stringify({ query: '{ me { email } }' }),
      });
      const body = (await me.json()) as { data?: { me: { email: string } | null } };
      if (body.data?.me?.email !== SIGN_ON_PEOPLE[login].email) {
        note('sign-on', `${login} signed in as ${JSON.stringify(body.data?.me ?? null)}`);
      }
    };

    // Answers that are fine under concurrency: a file deleted by someone else meanwhile.
    const EXPECTED = new Set(['NOT_FOUND']);

    for (let round = 1; round <= options.rounds; round++) {
      let crashed = false;
      let ops = 0;
      let failedByCrash = 0;
      const note = (what: string, detail: string) => {
        if (!crashed) unexpected.push(`round ${round}, ${what}: ${detail}`);
      };
      const guard = async (what: string, op: () => Promise<void>) => {
        try {
          await op();
          ops++;
        } catch (err) {
          if (crashed || isConnectionError(err)) failedByCrash++;
          else note(what, err instanceof Error ? err.message : String(err));
        }
      };
      const checkErrors = (
        what: string,
        res: { status: number; errors?: { message: string; extensions?: { code?: string } }[] },
      ) => {
        const error = res.errors?.[0];
        if (!error) return true;
        if (!EXPECTED.has(error.extensions?.code ?? '')) {
          note(what, `${res.status} ${error.extensions?.code}: ${error.message}`);
        }
        return false;
      };

      const upload = async (user: User, { random, pick, between }: Rng) => {
        const reuse = recentBytes.length > 0 && random() < 0.2;
        const large = random() < 0.15;
        // A quarter of the small ones are pictures, for thumbnails to be made of.
        const picture = !reuse && !large && random() < 0.25;
        const bytes = reuse
          ? pick(recentBytes)
          : picture
            ? await sharp({
                create: {
                  width: between(16, 900),
                  height: between(16, 900),
                  channels: 3,
                  background: { r: between(0, 255), g: between(0, 255), b: between(0, 255) },
                },
              })
                .png()
                .toBuffer()
            : randomBytes(large ? between(2 << 20, 6 << 20) : between(1, 64 << 10));
        if (!reuse && !large) recentBytes.push(bytes);
        if (recentBytes.length > 20) recentBytes.shift();
        const tags = TAGS.filter(() => random() < 0.3);
        const res = await fetch(`${child.url}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}` },
          body: uploadForm(bytes, { filename: `f${between(1, 1e6)}.bin`, tags }),
        });
        const body = (await res.json()) as {
          data?: { uploadFile: UploadedFile };
          errors?: { message: string; extensions?: { code?: string } }[];
        };
        if (!checkErrors('upload', { status: res.status, ...body }) || !body.data) return;
        const file = body.data.uploadFile;
        if (file.sha256 !== sha256(bytes)) note('upload', `sha256 ${file.sha256} for other bytes`);
        known.push({ id: file.id, sha256: file.sha256, owner: user.email });
      };

      // Sends part of a multipart body with the full length declared, then drops the connection.
      const cutUpload = async (user: User, { between }: Rng) => {
        const bytes = randomBytes(between(256 << 10, 3 << 20));
        const { body, contentType } = await multipartBody(bytes, { filename: 'cut.bin' });
        const cut = between(200, body.length - 1);
        await new Promise<void>((resolve) => {
          const req = http.request(`${child.url}/graphql`, {
            method: 'POST',
            headers: {
              'content-type': contentType,
              'content-length': body.length,
              authorization: `Bearer ${user.token}`,
            },
            agent: false,
          });
          req.on('error', () => resolve());
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => resolve());
            res.on('error', () => resolve());
          });
          req.write(body.subarray(0, cut), () => {
            setImmediate(() => {
              req.destroy();
              resolve();
            });
          });
        });
      };

      const download = async (user: User, { pick }: Rng) => {
        const file = known.length ? pick(known) : null;
        if (!file) return;
        const res = await fetch(`${child.url}/files/${file.id}/download`, {
          headers: { authorization: `Bearer ${user.token}` },
        });
        const bytes = Buffer.from(await res.arrayBuffer());
        // A HIDDEN file does not exist for a USER, and a deleted one for anybody.
        if (res.status === 404) return;
        if (res.status !== 200) return note('download', `status ${res.status}`);
        if (sha256(bytes) !== file.sha256) note('download', `file ${file.id}: wrong bytes`);
      };

      // A few files as one ZIP (/files/zip), cut by the kill mid-way or not: one download per
      // file counted, all or none (the doctor checks the counters against the rows).
      const zipDownload = async (user: User, { pick }: Rng) => {
        if (!known.length) return;
        const some = [...new Set([pick(known), pick(known), pick(known)])];
        const res = await fetch(`${child.url}/files/zip?ids=${some.map((f) => f.id).join(',')}`, {
          headers: { authorization: `Bearer ${user.token}` },
        });
        const bytes = Buffer.from(await res.arrayBuffer());
        // One file HIDDEN for a USER, or deleted: the whole ZIP is a 404.
        if (res.status === 404) return;
        if (res.status !== 200) return note('zip', `status ${res.status}`);
        const entries = bytes.length >= 22 ? bytes.readUInt16LE(bytes.length - 12) : -1;
        if (bytes.readUInt32LE(bytes.length - 22) !== 0x06054b50 || entries !== some.length) {
          note(
            'zip',
            `${some.length} files asked, a ZIP of ${bytes.length} bytes, ${entries} entries`,
          );
        }
      };

      // Thumbnails made, cut by the kill mid-way, and made again after it (modules/previews): an
      // image, a 404 for other types (or bytes purged meanwhile) or a 503 while a dead instance's
      // claim lapses; never a 500.
      const thumbnail = async (user: User, { pick }: Rng) => {
        const file = known.length ? pick(known) : null;
        if (!file) return;
        const res = await fetch(`${child.url}/files/${file.id}/thumbnail?size=256`, {
          headers: { authorization: `Bearer ${user.token}` },
        });
        const bytes = Buffer.from(await res.arrayBuffer());
        if (res.status === 404 || res.status === 503) return;
        if (res.status !== 200) return note('thumbnail', `status ${res.status}`);
        if (bytes.subarray(8, 12).toString('latin1') !== 'WEBP') {
          note('thumbnail', `file ${file.id}: not a WebP`);
        }
      };

      /**
       * A link to one of the user's files (`maxDownloads` null: no limit), or null when the user
       * has none or the file went HIDDEN meanwhile (it cannot be shared: as expected as a deleted
       * one).
       */
      const shareOne = async (
        what: string,
        user: User,
        pick: Rng['pick'],
        maxDownloads: number | null,
      ) => {
        const mine = known.filter((f) => user.admin || f.owner === user.email);
        const file = mine.length ? pick(mine) : null;
        if (!file) return null;
        const created = await gql<{ createShareLink: { url: string } }>(
          `mutation($f: [ID!]!, $m: Int) { createShareLink(fileIds: $f, maxDownloads: $m) { url } }`,
          { f: [file.id], m: maxDownloads },
          user.token,
        );
        if (created.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT') return null;
        if (!checkErrors(what, created) || !created.data) return null;
        const path = new URL(created.data.createShareLink.url).pathname;
        return { file, files: `${child.url}${path}/files/${file.id}` };
      };

      // A share link to one of the user's files, then downloads through it past its limit: the
      // link's count and rows must survive the kills as exactly as the file's.
      const shareDownload = async (user: User, { pick, between }: Rng) => {
        const shared = await shareOne('share', user, pick, between(1, 3));
        if (!shared) return;
        const { file } = shared;
        for (let i = 0; i < 3; i++) {
          const res = await fetch(`${shared.files}/download`);
          const bytes = Buffer.from(await res.arrayBuffer());
          // Used up, or the file went HIDDEN or away: 404 alike.
          if (res.status === 404) continue;
          if (res.status !== 200) return note('share download', `status ${res.status}`);
          if (sha256(bytes) !== file.sha256) note('share download', `file ${file.id}: wrong bytes`);
        }
      };

      // A share link's thumbnail, made or cut by the kill like the file's own: an image, a 404
      // (no picture, or the file went HIDDEN or away) or a 503 while a dead instance's claim
      // lapses, never a 500; and never a download, so the link's single download is still there
      // after two thumbnails.
      const shareThumbnail = async (user: User, { pick }: Rng) => {
        const shared = await shareOne('share thumbnail', user, pick, 1);
        if (!shared) return;
        const { file } = shared;
        for (const size of [256, 1024]) {
          const res = await fetch(`${shared.files}/thumbnail?size=${size}`);
          const bytes = Buffer.from(await res.arrayBuffer());
          if (res.status === 404 || res.status === 503) continue;
          if (res.status !== 200) return note('share thumbnail', `status ${res.status}`);
          if (bytes.subarray(8, 12).toString('latin1') !== 'WEBP') {
            return note('share thumbnail', `file ${file.id}: not a WebP`);
          }
        }
        const res = await fetch(`${shared.files}/download`);
        const bytes = Buffer.from(await res.arrayBuffer());
        if (res.status === 404) return;
        if (res.status !== 200) return note('share thumbnail', `download after: ${res.status}`);
        if (sha256(bytes) !== file.sha256) note('share thumbnail', `file ${file.id}: wrong bytes`);
      };

      // A share link's preview (a link without a download limit serves one): the whole file
      // inline, or a 404 (a type it does not preview, or the file went HIDDEN or away), never a
      // 500 and never a download: the drill's last check finds the link's count equal to its
      // rows, none.
      const sharePreview = async (user: User, { pick }: Rng) => {
        const shared = await shareOne('share preview', user, pick, null);
        if (!shared) return;
        const res = await fetch(`${shared.files}/preview`);
        const bytes = Buffer.from(await res.arrayBuffer());
        if (res.status === 404) return;
        if (res.status !== 200) return note('share preview', `status ${res.status}`);
        if (sha256(bytes) !== shared.file.sha256) {
          note('share preview', `file ${shared.file.id}: wrong bytes`);
        }
      };

      const edit = async (
        user: User,
        { random, pick, between }: Rng,
        kind: 'rename' | 'retag' | 'status' | 'delete',
      ) => {
        const mine = known.filter((f) => user.admin || f.owner === user.email);
        const file = mine.length ? pick(mine) : null;
        if (!file) return;
        // Now and then the bulk mutations, over a few of the user's files at once.
        if ((kind === 'delete' || kind === 'retag') && random() < 0.2) {
          const some = [...new Set([file, pick(mine), pick(mine)])];
          const ids = some.map((f) => f.id);
          const res =
            kind === 'delete'
              ? await gql(`mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`, { ids }, user.token)
              : await gql(
                  `mutation($ids: [ID!]!, $a: [String!], $r: [String!]) {
                    tagFiles(ids: $ids, add: $a, remove: $r) { id } }`,
                  {
                    ids,
                    a: TAGS.filter(() => random() < 0.3),
                    r: TAGS.filter(() => random() < 0.3),
                  },
                  user.token,
                );
          if (checkErrors(`bulk ${kind}`, res) && kind === 'delete') {
            // Then, as often, all restored or all purged in one request (restoreFiles,
            // purgeFiles): trash and quota counters, blob references, relinked downloads.
            const then = random();
            if (then < 0.33) {
              const back = await gql(
                `mutation($ids: [ID!]!) { restoreFiles(ids: $ids) { id } }`,
                { ids },
                user.token,
              );
              if (checkErrors('bulk restore', back)) return;
            } else if (then < 0.66) {
              checkErrors(
                'bulk purge',
                await gql(`mutation($ids: [ID!]!) { purgeFiles(ids: $ids) }`, { ids }, user.token),
              );
            }
            for (const f of some) if (known.includes(f)) known.splice(known.indexOf(f), 1);
          }
          return;
        }
        if (kind === 'delete') {
          // To the trash; then, as often, purged at once or restored (trash and quota counters,
          // blob references of trashed files, relinked downloads: all checked by the doctor).
          const then = random();
          const mutation =
            then < 0.4
              ? `mutation($id: ID!) { deleteFile(id: $id) purgeFile(id: $id) }`
              : then < 0.7
                ? `mutation($id: ID!) { deleteFile(id: $id) restoreFile(id: $id) { id } }`
                : `mutation($id: ID!) { deleteFile(id: $id) }`;
          const res = await gql(mutation, { id: file.id }, user.token);
          if (checkErrors('delete', res) && then >= 0.4 && then < 0.7) return;
          if (!res.errors?.length) known.splice(known.indexOf(file), 1);
          return;
        }
        const variables: Record<string, unknown> = { id: file.id };
        if (kind === 'rename') variables.name = `renamed ${between(1, 1e6)}.bin`;
        if (kind === 'retag') variables.tags = TAGS.filter(() => random() < 0.4);
        if (kind === 'status') variables.status = random() < 0.5 ? 'HIDDEN' : 'ACTIVE';
        const res = await gql(
          `mutation($id: ID!, $name: String, $tags: [String!], $status: FileStatus) {
            updateFile(id: $id, name: $name, tags: $tags, status: $status) { id } }`,
          variables,
          user.token,
        );
        checkErrors(kind, res);
      };

      // A sign-on by one of the provider's people, picked by the client's sequence.
      const signOn = ({ pick }: Rng) =>
        signOnAs(pick(Object.keys(SIGN_ON_PEOPLE) as (keyof typeof SIGN_ON_PEOPLE)[]), note);

      const worker = async (user: User, rng: Rng, slot: number) => {
        while (!crashed) {
          const r = rng.random();
          if (r < 0.08) await guard('tus', async () => void (await tusStep(slot, user, rng, note)));
          else if (r < 0.3) await guard('upload', () => upload(user, rng));
          else if (r < 0.38) await guard('cut upload', () => cutUpload(user, rng));
          else if (r < 0.49) await guard('download', () => download(user, rng));
          else if (r < 0.53) await guard('zip', () => zipDownload(user, rng));
          else if (r < 0.58) await guard('share', () => shareDownload(user, rng));
          else if (r < 0.6) await guard('share thumbnail', () => shareThumbnail(user, rng));
          else if (r < 0.63) await guard('share preview', () => sharePreview(user, rng));
          else if (r < 0.66) await guard('thumbnail', () => thumbnail(user, rng));
          else if (r < 0.73) await guard('rename', () => edit(user, rng, 'rename'));
          else if (r < 0.83) await guard('retag', () => edit(user, rng, 'retag'));
          else if (r < 0.9 && user.admin) await guard('status', () => edit(user, rng, 'status'));
          else await guard('delete', () => edit(user, rng, 'delete'));
        }
      };

      const started = Date.now();
      const killAfter = 300 + Math.floor(killAt() * 1200);
      const traffic = Array.from({ length: workers }, (_, i) =>
        worker(users[i % users.length]!, rng(options.seed * 7919 + round * 101 + i), i),
      );
      // One more client signs on, again and again, so kills land inside sign-ons too.
      const signOnRng = rng(options.seed * 7919 + round * 101 + workers);
      traffic.push(
        (async () => {
          while (!crashed) await guard('sign-on', () => signOn(signOnRng));
        })(),
      );
      await new Promise((r) => setTimeout(r, killAfter));
      // Set first: requests failing from here on are the kill's doing.
      crashed = true;
      await kill(child, 'SIGKILL');
      await Promise.all(traffic);
      const leftByKill = await leftovers();
      child = await startChild(env);
      provider.configure([`${child.url}/auth/oidc/callback`]);
      const ms = Date.now() - started;
      rounds.push({ round, killedAfterMs: killAfter, ms, ops, failedByCrash, leftByKill });
      log(
        `round ${round}: killed after ${killAfter} ms (${ops} requests answered, ` +
          `${failedByCrash} cut by the kill, left ${leftByKill.temps} temp object(s) and ` +
          `${leftByKill.intents} blob intent(s)); restarted, ${ms} ms in all`,
      );
    }

    // Every resumable upload cut by a kill finishes on the restarted server with its bytes.
    const finishRng = rng(options.seed * 31 + 7);
    const finishNote = (what: string, detail: string) =>
      unexpected.push(`at the end, ${what}: ${detail}`);
    for (const [slot, upload] of [...resumable]) {
      const deadline = Date.now() + 60_000;
      while (!(await tusStep(slot, upload.user, finishRng, finishNote)) && resumable.has(slot)) {
        if (Date.now() > deadline) {
          unexpected.push(`at the end, tus upload ${upload.url} did not finish within 60 s`);
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    log(`${resumedFinished} resumable upload(s) finished across the kills`);

    // Everyone signs on once more on the restarted server: no kill left a sign-on half made.
    for (const login of Object.keys(SIGN_ON_PEOPLE) as (keyof typeof SIGN_ON_PEOPLE)[]) {
      await signOnAs(login, finishNote);
    }

    // A last request through the restarted server proves it serves what survived.
    const survivor = known.at(-1);
    if (survivor) {
      const res = await fetch(`${child.url}/files/${survivor.id}/download`, {
        headers: { authorization: `Bearer ${users[0]!.token}` },
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 && res.status !== 404) {
        unexpected.push(`after the rounds, download: status ${res.status}`);
      } else if (res.status === 200 && sha256(bytes) !== survivor.sha256) {
        unexpected.push(`after the rounds, download: wrong bytes`);
      }
    }
  } catch (err) {
    await kill(child, 'SIGKILL');
    await connection.close();
    await database?.drop();
    await provider.close();
    throw new Error(`chaos run failed: ${String(err)}\n${child.output()}`, { cause: err });
  }

  try {
    if (connection.dialect === 'postgres') {
      // The killed instances' leases lapse within LEASE_SECONDS; the running one's periodic
      // sweep then removes their leftovers and their lease rows.
      const deadline = Date.now() + 20 * LEASE_SECONDS * 1000;
      for (;;) {
        const n = await connection.db.selectFrom('instances').select('id').execute();
        if (n.length <= 1) break;
        if (Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const code = await kill(child, 'SIGTERM');
    if (code !== 0) unexpected.push(`clean stop exited with ${code}:\n${child.output()}`);

    const report = await runDoctor({ db: connection.db, dialect: connection.dialect, storage });
    // Share links: each count equals its download rows, and none passed its limit.
    const links = await connection.db
      .selectFrom('share_links as l')
      .leftJoin('downloads as d', 'd.share_link_id', 'l.id')
      .select(['l.id', 'l.download_count', 'l.max_downloads'])
      .select((eb) => eb.fn.count<number>('d.id').as('rows'))
      .groupBy(['l.id', 'l.download_count', 'l.max_downloads'])
      .execute();
    for (const link of links) {
      if (Number(link.rows) !== link.download_count) {
        unexpected.push(`share link ${link.id}: count ${link.download_count}, ${link.rows} rows`);
      }
      if (link.max_downloads !== null && link.download_count > link.max_downloads) {
        unexpected.push(`share link ${link.id}: ${link.download_count} > ${link.max_downloads}`);
      }
    }
    // Sign-on: an account it made always has its identity (they are written in one
    // transaction), every session has its user, and started sign-ins left behind are only
    // those the kills cut, still within their ten minutes.
    const emails = Object.values(SIGN_ON_PEOPLE).map((p) => p.email);
    const unlinked = await connection.db
      .selectFrom('users as u')
      .leftJoin('oidc_identities as i', 'i.user_id', 'u.id')
      .select('u.email')
      .where('u.email', 'in', emails)
      .where('u.email', '!=', 'alice@example.com')
      .where('i.user_id', 'is', null)
      .execute();
    for (const u of unlinked) unexpected.push(`sign-on account ${u.email} has no identity`);
    const orphans = await connection.db
      .selectFrom('sessions as s')
      .leftJoin('users as u', 'u.id', 's.user_id')
      .select('s.id')
      .where('u.id', 'is', null)
      .execute();
    if (orphans.length) unexpected.push(`${orphans.length} session(s) without a user`);
    const lapsed = await connection.db
      .selectFrom('oidc_logins')
      .select('state_hash')
      .where('expires_at', '<=', Date.now())
      .execute();
    if (lapsed.length) unexpected.push(`${lapsed.length} lapsed started sign-in(s) left`);
    const identities = await connection.db
      .selectFrom('oidc_identities')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    log(`sign-on: ${Number(identities.n)} linked identit(ies) after the rounds`);
    const left = await leftovers();
    const ok = report.problems === 0 && !left.temps && !left.intents && !left.leases;
    return {
      seed: options.seed,
      dialect: connection.dialect,
      rounds,
      unexpected,
      report,
      leftovers: left,
      ok,
    };
  } finally {
    await connection.close();
    await database?.drop();
    await provider.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A fresh empty database on the PostgreSQL server `adminUrl`, and a way to drop it. */
async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `cabinet_chaos_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
