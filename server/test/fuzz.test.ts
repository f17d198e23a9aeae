import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.js';
import { fileRouteCase } from './fuzz/file-routes.js';
import { graphqlCase, type IdPool } from './fuzz/graphql.js';
import { multipartCase } from './fuzz/multipart.js';
import { oidcCase } from './fuzz/oidc.js';
import { judge, normalizeMessage, showOutcome, showRequest, type Problem } from './fuzz/oracle.js';
import { hashSeed, Random } from './fuzz/random.js';
import { shareCase, type ShareFixture } from './fuzz/share.js';
import { tusCase, type FreshUpload } from './fuzz/tus.js';
import { MAX_OPEN_UPLOADS } from '../src/modules/uploads/uploads.service.js';
import { sendWire, type WireOutcome, type WireRequest } from './fuzz/wire.js';
import { zipCase } from './fuzz/zip.js';
import { countRows, insertFiles } from './library.js';
import { Browser, oidcEnv, passProvider, startProvider, type TestProvider } from './sign-on.js';
import { countFilesUnder, PNG, upload, uploadOk } from './uploads.js';

// Fuzzing the front door (hardening issue): mutated multipart uploads and GraphQL documents
// generated from the schema, each sent over a raw socket to a real server. After every case the
// server must have answered (unless the fuzzer cut the connection itself), without a 5xx, with
// a contract code on every error and never INTERNAL_SERVER_ERROR, with no temp file left behind
// and no file row for an upload that did not succeed; it must stay up throughout.
//
// Seeded and bounded: FUZZ_SEED picks the run, FUZZ_CASES the number of cases per section, and
// FUZZ_ONLY=multipart:17 (or graphql:17, tus:17, share:17, files:17, zip:17, oidc:17) replays one
// case of a run, FUZZ_ONLY=multipart:200-251 a stretch of it (a failure may need what earlier cases
// left behind). Every case draws from its own PRNG seeded by (seed, section, index), so a replay
// needs nothing else.

const SEED = Number(process.env.FUZZ_SEED ?? 20261202) >>> 0;
const CASES = Math.max(1, Number(process.env.FUZZ_CASES ?? 400));
const ONLY = /^(multipart|graphql|tus|share|files|zip|oidc):(\d+)(?:-(\d+))?$/.exec(
  process.env.FUZZ_ONLY ?? '',
);
/** Small, so that "over the limit" cases are cheap to send. */
const LIMIT = 64 * 1024;
/** Health is checked, and progress shown, once per batch. */
const BATCH = 25;
/** Print at most this many cases of each distinct failure (all of them are counted). */
const SHOWN_PER_SIGNATURE = 3;
const DATABASE = process.env.TEST_DATABASE_URL ? 'postgresql' : 'sqlite';

type Section = 'multipart' | 'graphql' | 'tus' | 'share' | 'files' | 'zip' | 'oidc';

interface Failure {
  section: Section;
  index: number;
  labels: string[];
  request: string;
  outcome: string;
  problem: Problem;
}

function indices(section: Section): number[] {
  if (ONLY) {
    if (ONLY[1] !== section) return [];
    const first = Number(ONLY[2]);
    const last = Number(ONLY[3] ?? first);
    return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
  }
  return Array.from({ length: CASES }, (_, i) => i);
}

/** Polls `check` until it holds; false (not a throw) when `timeoutMs` passes first. */
async function settles(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe(`fuzz (${DATABASE}, seed ${SEED})`, () => {
  let t: TestServer;
  /** The OpenID provider the server trusts, for the sign-on routes' section. */
  let provider: TestProvider;
  let port: number;
  let tokens: Record<'user' | 'admin' | 'readToken', string>;
  let ids: IdPool;
  const failures: Failure[] = [];
  let setupProblem: Problem | null = null;
  /** Blob rows without a stored blob, when the fixture had to be inserted. */
  let fixtureBlobs = 0;
  // A throw from a stream handler inside the server would kill a production process; under
  // vitest it lands here instead, and is charged to the case in flight.
  const crashes: unknown[] = [];
  const onCrash = (err: unknown) => crashes.push(err);

  const tempCount = () => countFilesUnder(path.join(t.dir, 'files', 'tmp'));
  /** Rows of a table (upload_sessions: `finished` counts only those that made a file). */
  const rows = async (
    table: 'files' | 'blobs' | 'downloads' | 'upload_sessions',
    finished = false,
  ) => {
    let q = t.server.connection.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'));
    if (finished && table === 'upload_sessions') {
      q = q.where('upload_sessions.file_id', 'is not', null) as typeof q;
    }
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  const healthy = async () => {
    try {
      return (await fetch(`${t.url}/healthz`)).status === 200;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    provider = await startProvider();
    t = await startTestServer({
      ...oidcEnv(provider),
      MAX_UPLOAD_BYTES: String(LIMIT),
      // Generated register/login calls must not run into the sign-in limit and stop exercising
      // the resolvers behind it.
      AUTH_RATE_PER_ADDRESS: '1000000',
    });
    port = Number(new URL(t.url).port);
    provider.configure([`${t.url}/auth/oidc/callback`]);
    const admin = await t.signUp('admin@example.com');
    const user = await t.signUp('user@example.com');
    const victim = await t.signUp('victim@example.com');
    const read = await t.gql<{ createApiToken: { token: string } }>(
      'mutation { createApiToken(name: "fuzz", scopes: [READ]) { token } }',
      {},
      { token: user.token },
    );
    tokens = { user: user.token, admin: admin.token, readToken: read.data!.createApiToken.token };
    // Fixture files go through the front door; if a plain upload fails (a bug in itself, reported
    // as such), they are inserted directly so the rest of the run still fuzzes something.
    const plain = await Promise.all([
      upload(t, 'first', { token: user.token, filename: 'first.txt' }),
      upload(t, 'second', { token: admin.token, filename: 'second.txt', status: 'HIDDEN' }),
    ]);
    let fileIds = plain.map((r) => r.data?.uploadFile?.id ?? '');
    if (fileIds.includes('')) {
      setupProblem = {
        signature: 'a plain upload fails',
        detail: JSON.stringify(plain.map((r) => r.errors)),
      };
      fixtureBlobs = 1;
      fileIds = (
        await insertFiles(t, [
          { name: 'first.txt', uploadedBy: Number(user.id) },
          { name: 'second.txt', uploadedBy: Number(admin.id), status: 'HIDDEN' },
        ])
      ).map(String);
      await t.server.connection.db.updateTable('blobs').set({ ref_count: 2 }).execute();
    }
    const tags = await t.gql<{ a: { id: string }; b: { id: string } }>(
      'mutation { a: createTag(name: "alpha") { id } b: createTag(name: "beta") { id } }',
      {},
      { token: admin.token },
    );
    ids = {
      files: fileIds,
      tags: [tags.data!.a.id, tags.data!.b.id],
      victim: victim.id,
    };
    console.log(
      `fuzz: seed ${SEED}, ${CASES} cases per section on ${DATABASE}; replay with FUZZ_SEED=${SEED} FUZZ_ONLY=<section>:<index>`,
    );
  });

  afterAll(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await t?.close();
    await provider?.close();
  });

  function record(
    section: Section,
    index: number,
    labels: string[],
    req: WireRequest,
    outcome: WireOutcome,
    problems: Problem[],
  ) {
    for (const problem of problems) {
      failures.push({
        section,
        index,
        labels,
        request: showRequest(req),
        outcome: showOutcome(outcome),
        problem,
      });
    }
  }

  /** After a batch: whether /healthz still answers; if not, the failure is recorded. */
  async function stillUp(
    section: Section,
    index: number,
    labels: string[],
    req: WireRequest,
    outcome: WireOutcome,
  ): Promise<boolean> {
    if (await healthy()) return true;
    record(section, index, labels, req, outcome, [
      { signature: 'server down: /healthz failed', detail: 'GET /healthz did not answer 200' },
    ]);
    return false;
  }

  function crashProblems(): Problem[] {
    return crashes.splice(0).map((err) => {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return {
        signature: `uncaught exception (kills the process): ${normalizeMessage(message)}`,
        detail:
          err instanceof Error
            ? (err.stack ?? message).split('\n').slice(0, 6).join('\n')
            : message,
      };
    });
  }

  /** A failure found after a section's cases: no single case replays it. */
  function recordAfter(section: Section, label: string, problem: Problem) {
    failures.push({ section, index: -1, labels: [label], request: '', outcome: '', problem });
  }

  /**
   * Closes one case: lets a throw from a late callback surface and charges it to the case, records
   * the case's problems and, after each batch, whether /healthz still answers (false: stop).
   */
  async function closeCase(
    section: Section,
    index: number,
    labels: string[],
    req: WireRequest,
    outcome: WireOutcome,
    problems: Problem[],
  ): Promise<boolean> {
    await new Promise((r) => setImmediate(r));
    problems.push(...crashProblems());
    record(section, index, labels, req, outcome, problems);
    return (index + 1) % BATCH !== 0 || (await stillUp(section, index, labels, req, outcome));
  }

  /**
   * An answer to HEAD has no body whatever its Content-Length says; the wire parser waits for one
   * and sees a close instead. `whole` matches the part of what came that makes the answer (its
   * first group the status): routes differ, as the wire keeps only the first 300 characters.
   */
  function headAnswer(req: WireRequest, outcome: WireOutcome, whole: RegExp): WireOutcome {
    const head =
      req.method === 'HEAD' && outcome.kind === 'closed' ? whole.exec(outcome.partial) : null;
    if (!head) return outcome;
    return { kind: 'answered', status: Number(head[1]), headers: {}, body: Buffer.alloc(0) };
  }

  /** Fails the test with every distinct failure, a few cases of each printed for replay. */
  function report(section: Section) {
    const mine = failures.filter((f) => f.section === section);
    const bySignature = new Map<string, Failure[]>();
    for (const f of mine)
      bySignature.set(f.problem.signature, [...(bySignature.get(f.problem.signature) ?? []), f]);
    const lines: string[] = [];
    for (const [signature, cases] of bySignature) {
      lines.push(`\n### ${signature} — ${cases.length} case(s)`);
      for (const f of cases.slice(0, SHOWN_PER_SIGNATURE)) {
        lines.push(
          `- replay: FUZZ_SEED=${SEED} FUZZ_ONLY=${section}:${f.index}  [${f.labels.join(', ')}]`,
          `  ${f.problem.detail.replace(/\n/g, '\n  ')}`,
          `  request ${f.request.replace(/\n/g, '\n  ')}`,
          `  answer: ${f.outcome}`,
        );
      }
    }
    if (lines.length)
      console.error(`fuzz ${section} (${DATABASE}, seed ${SEED}):${lines.join('\n')}`);
    expect([...bySignature.keys()], `distinct ${section} failures (details above)`).toEqual([]);
  }

  it(
    'survives mutated multipart uploads, leaving no temp file and no row behind',
    async () => {
      let expectedRows = await rows('files');
      if (setupProblem) recordAfter('multipart', 'setup', setupProblem);
      for (const index of indices('multipart')) {
        const rng = new Random(hashSeed(SEED, 'multipart', index));
        const c = multipartCase(rng, LIMIT);
        const req = c.request(tokens);
        const outcome = await sendWire(port, req);
        const { problems, body } = judge(outcome, { mustAnswer: c.mustAnswer });
        const data = body?.data as { uploadFile?: { id?: string } } | null | undefined;
        if (data?.uploadFile?.id) expectedRows++;
        else if (c.mustSucceed) {
          problems.push({
            signature: 'a valid upload failed',
            detail: `a request with only valid variations was refused: ${showOutcome(outcome)}`,
          });
        }
        // An aborted upload is cleaned up asynchronously: wait for it, within reason.
        if (!(await settles(async () => (await tempCount()) === 0, 5_000))) {
          problems.push({
            signature: 'temp file left in FILES_DIR/tmp',
            detail: `${await tempCount()} file(s) still in tmp/ 5 s after the request`,
          });
        }
        const found = await rows('files');
        if (found !== expectedRows) {
          problems.push({
            signature:
              found > expectedRows
                ? 'file row without a successful upload'
                : 'successful upload without a file row',
            detail: `expected ${expectedRows} file rows, found ${found}`,
          });
          expectedRows = found;
        }
        if (!(await closeCase('multipart', index, c.labels, req, outcome, problems))) break;
      }
      // Every stored blob has its row and the other way round, once everything settled.
      const blobFiles = () => countFilesUnder(path.join(t.dir, 'files', 'blobs'));
      if (
        !(await settles(
          async () => (await blobFiles()) === (await rows('blobs')) - fixtureBlobs,
          5_000,
        ))
      ) {
        recordAfter('multipart', 'after all cases', {
          signature: 'blob files on disk do not match the blobs table',
          detail: `${await blobFiles()} blob file(s), ${await rows('blobs')} blob row(s)`,
        });
      }
      expect(await healthy()).toBe(true);
      report('multipart');
    },
    CASES * 400 + 60_000,
  );

  it(
    'answers generated GraphQL documents and variables with contract codes only',
    async () => {
      for (const index of indices('graphql')) {
        const rng = new Random(hashSeed(SEED, 'graphql', index));
        const c = graphqlCase(rng, ids);
        const req = c.request(tokens);
        const outcome = await sendWire(port, req);
        const { problems } = judge(outcome, { mustAnswer: true });
        if (!(await closeCase('graphql', index, c.labels, req, outcome, problems))) break;
      }
      expect(await healthy()).toBe(true);
      expect(await settles(async () => (await tempCount()) === 0, 5_000)).toBe(true);
      report('graphql');
    },
    CASES * 400 + 60_000,
  );

  it(
    'answers mutated tus requests with contract codes, and files come only from finished uploads',
    async () => {
      const filesBefore = await rows('files');
      const finishedBefore = await rows('upload_sessions', true);
      // A case leaves up to two uploads unfinished, and a user may hold MAX_OPEN_UPLOADS: the
      // cases take turns among uploaders, a new one every CASES_PER_UPLOADER cases.
      const CASES_PER_UPLOADER = Math.floor(MAX_OPEN_UPLOADS / 2) - 5;
      let uploader = tokens.user;
      let cases = 0;
      for (const index of indices('tus')) {
        const rng = new Random(hashSeed(SEED, 'tus', index));
        if (++cases % CASES_PER_UPLOADER === 0) {
          uploader = (await t.signUp(`tus-fuzz-${cases}@example.com`)).token;
        }
        // A fresh upload for the case to append to, query or end.
        const length = rng.int(1, LIMIT);
        const created = await fetch(`${t.url}/uploads`, {
          method: 'POST',
          headers: {
            'tus-resumable': '1.0.0',
            authorization: `Bearer ${uploader}`,
            'upload-length': String(length),
            'upload-metadata': `filename ${Buffer.from('fuzz.bin').toString('base64')}`,
          },
        });
        const fresh: FreshUpload = {
          id: created.headers.get('location')?.split('/').pop() ?? '',
          length,
        };
        const c = tusCase(rng, LIMIT, fresh);
        const req = c.request({ user: uploader });
        // A whole head block before the close is the answer.
        const outcome = headAnswer(
          req,
          await sendWire(port, req),
          /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n[\s\S]*\r\n\r\n$/,
        );
        const { problems } = judge(outcome, { mustAnswer: c.mustAnswer });
        if (created.status !== 201) {
          problems.push({
            signature: 'a valid tus creation failed',
            detail: `POST /uploads answered ${created.status}`,
          });
        }
        if (!(await closeCase('tus', index, c.labels, req, outcome, problems))) break;
      }
      // Every new file is a finished upload (cut requests may still be settling).
      const matches = async () =>
        (await rows('files')) - filesBefore ===
        (await rows('upload_sessions', true)) - finishedBefore;
      if (!(await settles(matches, 5_000))) {
        recordAfter('tus', 'after all cases', {
          signature: 'file rows do not match finished uploads',
          detail: `${(await rows('files')) - filesBefore} new file(s), ${(await rows('upload_sessions', true)) - finishedBefore} finished upload(s)`,
        });
      }
      // Swept as if expired, every unfinished upload goes with its bytes.
      await settles(async () => {
        await t.server.app.uploads.sweepExpired(Date.now() + 366 * 86_400_000);
        return (await rows('upload_sessions')) === 0;
      }, 10_000);
      if (!(await settles(async () => (await tempCount()) === 0, 5_000))) {
        recordAfter('tus', 'after the sweep', {
          signature: 'bytes left in FILES_DIR/tmp after every upload was swept',
          detail: `${await tempCount()} file(s), ${await rows('upload_sessions')} upload row(s)`,
        });
      }
      expect(await healthy()).toBe(true);
      report('tus');
    },
    CASES * 400 + 60_000,
  );
  it(
    'answers mutated share link requests without a 5xx, and link counts match their rows',
    async () => {
      const db = t.server.connection.db;
      const mine = await uploadOk(t, 'shared bytes', {
        token: tokens.user,
        filename: 'shared.txt',
      });
      // A file of its own too: the GraphQL fuzz before may have trashed or hidden the pool's
      // (deleteFiles, setFilesStatus take lists of the pool's ids).
      const second = await uploadOk(t, 'second bytes', {
        token: tokens.user,
        filename: 'second.txt',
      });
      // And a picture, so that share thumbnail cases reach the 200 path (making and serving one),
      // not only the 404 of files that get no thumbnail.
      const picture = await uploadOk(t, PNG, { token: tokens.user, filename: 'pixel.png' });
      const create = async (password: string | null, maxDownloads: number | null = 1_000_000) => {
        const res = await t.gql<{ createShareLink: { url: string } }>(
          `mutation($f: [ID!]!, $p: String, $m: Int) {
            createShareLink(fileIds: $f, password: $p, maxDownloads: $m) { url } }`,
          { f: [second.id, mine.id, picture.id], p: password, m: maxDownloads },
          { token: tokens.user },
        );
        return new URL(res.data!.createShareLink.url).pathname.split('/')[2]!;
      };
      const open = await create(null);
      const unlimited = await create(null, null);
      const locked = await create('fuzz password');
      const opened = await t.gql<{ share: { files: { downloadUrl: string }[] } }>(
        `query($t: String!) { share(token: $t, password: "fuzz password") { files { downloadUrl } } }`,
        { t: locked },
      );
      const fixture: ShareFixture = {
        open,
        unlimited,
        locked,
        proof: new URL(opened.data!.share.files[0]!.downloadUrl, t.url).searchParams.get('key')!,
        fileIds: [ids.files[0]!, mine.id, ids.files[1]!, picture.id],
        imageId: picture.id,
        sha256: mine.sha256,
      };
      // The fixture itself reaches the thumbnail's 200 path, or the cases below could not.
      const thumb = await fetch(`${t.url}/s/${open}/files/${picture.id}/thumbnail?size=256`);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      await thumb.arrayBuffer();
      let thumbnailsServed = 0;
      let previewsServed = 0;
      for (const index of indices('share')) {
        const rng = new Random(hashSeed(SEED, 'share', index));
        const c = shareCase(rng, fixture);
        const req = c.request();
        // These heads are longer than the 300 characters the wire keeps: a status line will do.
        const outcome = headAnswer(
          req,
          await sendWire(port, req),
          /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n/,
        );
        const { problems } = judge(outcome, { mustAnswer: c.mustAnswer });
        if (
          outcome.kind === 'answered' &&
          outcome.status === 200 &&
          c.labels.includes('target:thumbnail')
        )
          thumbnailsServed++;
        if (
          outcome.kind === 'answered' &&
          [200, 206, 304].includes(outcome.status) &&
          c.labels.includes('target:preview')
        )
          previewsServed++;
        if (!(await closeCase('share', index, c.labels, req, outcome, problems))) break;
      }
      // Every count a link holds is one history row of it, and the other way round.
      const links = await db.selectFrom('share_links').select(['id', 'download_count']).execute();
      for (const link of links) {
        const history = await db
          .selectFrom('downloads')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('share_link_id', '=', link.id)
          .executeTakeFirstOrThrow();
        if (Number(history.n) !== link.download_count) {
          recordAfter('share', 'after all cases', {
            signature: 'a link count does not match its download rows',
            detail: `link ${link.id}: download_count ${link.download_count}, ${history.n} rows`,
          });
        }
      }
      expect(await healthy()).toBe(true);
      // Mutated thumbnail requests got the picture too (about 7 of 400 cases, by their weights).
      if (!ONLY && CASES >= 400) expect(thumbnailsServed).toBeGreaterThan(0);
      // And mutated preview requests through the link without a limit got the bytes.
      if (!ONLY && CASES >= 400) expect(previewsServed).toBeGreaterThan(0);
      report('share');
    },
    CASES * 400 + 60_000,
  );

  it(
    'answers mutated thumbnail, preview and download requests with codes, counting a download only for a GET from byte 0',
    async () => {
      const db = t.server.connection.db;
      // Images to make thumbnails of, besides the text fixtures (which have none).
      const images = await Promise.all([
        upload(t, PNG, { token: tokens.user, filename: 'pixel.png' }),
        upload(t, PNG, { token: tokens.admin, filename: 'hidden.png', status: 'HIDDEN' }),
      ]);
      const fileIds = [...ids.files, ...images.map((r) => r.data?.uploadFile?.id ?? '0')];
      // The target of cut download GETs, which may or may not be recorded.
      const cutTarget = (await uploadOk(t, 'cut download bytes', { token: tokens.user })).id;
      const downloadsOf = async (cutOnes: boolean) => {
        const n = await db
          .selectFrom('downloads')
          .select((eb) => eb.fn.countAll<number | string>().as('n'))
          .where('file_id', cutOnes ? '=' : '!=', Number(cutTarget))
          .executeTakeFirstOrThrow();
        return Number(n.n);
      };
      const before = await downloadsOf(false);
      const cutBefore = await downloadsOf(true);
      // Downloads the download route must have recorded: a GET answered with the bytes from
      // byte 0.
      let served = 0;
      let cuts = 0;
      for (const index of indices('files')) {
        const rng = new Random(hashSeed(SEED, 'files', index));
        const c = fileRouteCase(rng, fileIds, [cutTarget]);
        const req = c.request(tokens);
        // A status line then a close (the request asked for one) is the whole answer.
        const outcome = headAnswer(req, await sendWire(port, req), /^HTTP\/1\.1 (\d{3}) /);
        const { problems } = judge(outcome, { mustAnswer: c.mustAnswer });
        if (c.route === 'download' && c.method === 'GET') {
          if (!c.mustAnswer) cuts += 1;
          else if (
            outcome.kind === 'answered' &&
            (outcome.status === 200 ||
              (outcome.status === 206 && /^bytes 0-/.test(outcome.headers['content-range'] ?? '')))
          )
            served += 1;
        }
        if (!(await closeCase('files', index, c.labels, req, outcome, problems))) break;
      }
      const added = (await downloadsOf(false)) - before;
      const cutAdded = (await downloadsOf(true)) - cutBefore;
      if (added !== served || cutAdded > cuts) {
        recordAfter('files', 'after all cases', {
          signature: 'downloads recorded do not match the GETs served from byte 0',
          detail: `${added} row(s) added for ${served} GETs served from byte 0; ${cutAdded} for ${cuts} cut GETs`,
        });
      }
      // Enough cases are plain valid GETs of the download route that some must be served.
      if (!ONLY && CASES >= 100) expect(served).toBeGreaterThan(0);
      const pending = await db
        .selectFrom('derived_objects')
        .select('sha256')
        .where('state', '=', 'pending')
        .execute();
      expect(pending).toEqual([]);
      expect(await healthy()).toBe(true);
      report('files');
    },
    CASES * 400 + 60_000,
  );

  it(
    'answers mutated selection ZIP requests with codes, counting one download per file served',
    async () => {
      const downloads = () => countRows(t, 'downloads');
      // Files of their own: the GraphQL fuzz may have trashed or hidden the pool's.
      const own = await Promise.all(
        ['one', 'two', 'three'].map((n) =>
          uploadOk(t, `zip bytes ${n}`, { token: tokens.user, filename: `${n}.txt` }),
        ),
      );
      const fileIds = [...own.map((f) => f.id), ...ids.files];
      const before = await downloads();
      let served = 0;
      let unseen = 0;
      for (const index of indices('zip')) {
        const rng = new Random(hashSeed(SEED, 'zip', index));
        const c = zipCase(rng, fileIds);
        const req = c.request(tokens);
        const outcome = headAnswer(req, await sendWire(port, req), /^HTTP\/1\.1 (\d{3}) /);
        const { problems } = judge(outcome, { mustAnswer: c.mustAnswer });
        if (outcome.kind === 'answered' && outcome.status === 200 && req.method === 'GET') {
          // The ZIP's end record holds its number of entries: one download each.
          const body = outcome.body;
          const eocd = body.length >= 22 ? body.readUInt32LE(body.length - 22) : 0;
          if (eocd !== 0x06054b50) {
            problems.push({ signature: 'a 200 ZIP without its end record', detail: '' });
          } else {
            served += body.readUInt16LE(body.length - 12);
          }
        }
        unseen += c.unseenCount;
        if (!(await closeCase('zip', index, c.labels, req, outcome, problems))) break;
      }
      const added = (await downloads()) - before;
      if (added < served || added > served + unseen) {
        recordAfter('zip', 'after all cases', {
          signature: 'downloads counted do not match the ZIP entries served',
          detail: `${added} row(s) added, ${served} entries served, ${unseen} possible from cut requests`,
        });
      }
      // Enough cases are plain valid GETs that some ZIPs must have been served.
      if (!ONLY && CASES >= 50) expect(served).toBeGreaterThan(0);
      expect(await healthy()).toBe(true);
      report('zip');
    },
    CASES * 400 + 60_000,
  );

  it(
    'answers mutated sign-on requests with redirects, never a session, identity or user',
    async () => {
      const count = (table: 'sessions' | 'oidc_identities' | 'users') => countRows(t, table);
      // One real sign-on: its (used) code is what the cases replay.
      provider.people.set('fuzz', { email: 'sign-on@example.com', email_verified: true });
      const browser = new Browser();
      const start = await browser.request(`${t.url}/auth/oidc/start`);
      const callback = await passProvider(browser, start.headers.get('location')!, 'fuzz', t.url);
      const signedOn = await browser.request(callback);
      expect(signedOn.headers.get('location'), 'a plain sign-on').toBe('/');
      const code = new URL(callback).searchParams.get('code')!;
      const counts = async () =>
        [await count('sessions'), await count('oidc_identities'), await count('users')].join();
      const before = await counts();
      for (const index of indices('oidc')) {
        const rng = new Random(hashSeed(SEED, 'oidc', index));
        // A sign-in started for the case, so that a matching state and cookie reach the code
        // exchange with the provider (which refuses the used code). The state differs from run
        // to run; what the case does with it does not.
        const live = await fetch(`${t.url}/auth/oidc/start`, { redirect: 'manual' });
        const state = new URL(live.headers.get('location') ?? t.url).searchParams.get('state');
        const c = oidcCase(rng, { state: state ?? '', code, issuer: provider.issuer });
        const req: WireRequest = {
          method: c.method,
          path: c.path,
          headers: [
            ['Host', `127.0.0.1:${port}`],
            ['Connection', 'close'],
            ...Object.entries(c.headers),
          ],
          body: Buffer.alloc(0),
          delivery: { kind: 'whole' },
        };
        const outcome = headAnswer(req, await sendWire(port, req), /^HTTP\/1\.1 (\d{3}) /);
        const { problems } = judge(outcome, { mustAnswer: true });
        if (outcome.kind === 'answered') {
          const location = outcome.headers.location ?? '';
          // A huge state, code and cookie together pass Node's limit on the request's head: the
          // parser's own refusal, coded like every other.
          const headBytes =
            c.path.length +
            Object.entries(c.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
          const expected =
            outcome.status === 431
              ? headBytes > http.maxHeaderSize / 2 &&
                outcome.body.toString().includes('"code":"PAYLOAD_TOO_LARGE"')
              : c.method !== 'GET'
                ? outcome.status === 405
                : outcome.status === 302 &&
                  (c.labels.includes('start')
                    ? location.startsWith(provider.issuer)
                    : /^\/login\?error=oidc_(state|provider)$/.test(location));
          if (!expected) {
            problems.push({
              signature: `unexpected answer to a ${c.labels.includes('start') ? 'start' : 'callback'}`,
              detail: `HTTP ${outcome.status} ${location}`,
            });
          }
        }
        const now = await counts();
        if (now !== before) {
          problems.push({
            signature: 'a mutated sign-on made a session, identity or user',
            detail: `sessions, identities, users: ${before} before, ${now} after`,
          });
        }
        if (!(await closeCase('oidc', index, c.labels, req, outcome, problems))) break;
      }
      expect(await healthy()).toBe(true);
      report('oidc');
    },
    CASES * 400 + 60_000,
  );
});
