import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { Db, FileRow } from '../src/db/database.js';
import { sortKey } from '../src/db/sort-key.js';
import { foldTagLinkMoves } from '../src/modules/stats/tag-moves.js';
import { createLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { createPostgresDatabase } from '../test/harness.js';
import { percentile, printTable } from './report.js';

// `npm run bench -- bulk`: the bulk mutations over BENCH_BULK_FILES (default 10,000) seeded files
// in requests of 1,000 ids through HTTP as an admin (issue 16: p95 under 200 ms a request):
// tagFiles (add one tag), setFilesStatus (hide), deleteFiles (to the trash), in that order.
// Each action is first sent and taken back BENCH_BULK_WARMUP times (default 2), unmeasured.
// Right before each request, its baseline in the same run: the same rows changed by plain
// set-based SQL in one transaction (a handful of statements, audit rows in one multi-row insert,
// every trigger firing), rolled back, so the request then finds the rows as the baseline did.
// Right after each request, the fold of the tag moves it recorded (what the server's background
// fold does within seconds: on PostgreSQL for every tag rollup, on SQLite for the cross rollups,
// a tag's users and pairs of tags; the requests no longer move the files' downloads
// between their tags' rollups themselves), timed in a column of its own.
// Then one single-file mutation per file (updateFile) for BENCH_BULK_SINGLES files (default
// 200): what a client without bulk mutations would send.
//
// A fresh temp SQLite database, or with TEST_DATABASE_URL a fresh PostgreSQL database (dropped
// at the end), seeded by `npm run seed` (20 users, 5 downloads a file).

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FILES = Number(process.env.BENCH_BULK_FILES ?? 10_000);
const SINGLES = Number(process.env.BENCH_BULK_SINGLES ?? 200);
const BATCH = 1000;
const WARMUP = Number(process.env.BENCH_BULK_WARMUP ?? 2);
const TAG = 'Bulk bench';

function seed(env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/src/cli/seed.ts',
        '--files',
        String(FILES),
        '--users',
        '20',
        '--downloads',
        String(FILES * 5),
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`seed: ${err}`))));
  });
}

/** Runs `work` in a transaction and rolls it back: the rows stay as they were. */
async function rolledBack(db: Db, work: (trx: Db) => Promise<void>): Promise<void> {
  const undo = new Error('roll back');
  try {
    await db.transaction().execute(async (trx) => {
      await work(trx as unknown as Db);
      throw undo;
    });
  } catch (err) {
    if (err !== undo) throw err;
  }
}

const auditRows = (files: { id: number; name: string }[], action: string, at: number) =>
  files.map((f) => ({
    at,
    actor_id: null,
    actor_label: 'bench',
    action,
    target_type: 'file',
    target_id: String(f.id),
    target_label: f.name,
    address: '127.0.0.1',
    details: '{"bulk":true}',
  }));

/** Multi-row inserts within SQLite's and PostgreSQL's parameter limits. */
async function insertAudit(trx: Db, rows: ReturnType<typeof auditRows>) {
  for (let i = 0; i < rows.length; i += 500) {
    await trx
      .insertInto('audit_events')
      .values(rows.slice(i, i + 500))
      .execute();
  }
}

/** Appends how long `work` took, in ms, to `into`. */
async function timed(into: number[], work: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await work();
  into.push(performance.now() - start);
}

/** p50, p95 (whole ms) and the sum of a run's durations. */
function summary(ms: readonly number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    p50: Math.round(percentile(sorted, 50)),
    p95: Math.round(percentile(sorted, 95)),
    total: sorted.reduce((a, b) => a + b, 0),
  };
}

export async function run(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-bench-bulk-'));
  const pgDatabase = await createPostgresDatabase();
  const env = {
    DATABASE_URL: pgDatabase?.url ?? `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
    FILES_DIR: path.join(dir, 'files'),
  };
  const seedStart = performance.now();
  await seed(env);
  const seeded = (performance.now() - seedStart) / 1000;
  const config = loadConfig({
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    WEB_DIR: '',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    TRASH_DAYS: '30',
    // A request slower than the default 60 s of silence (PostgreSQL on a loaded machine) is
    // measured, not cut.
    IDLE_TIMEOUT_SECONDS: '900',
  });
  const server = await startServer(config, createLogger(config.logLevel));
  // On a loaded machine the baseline between two requests can outlast the server's 5 s keep-alive:
  // the server closed the idle socket as fetch reused it (ECONNRESET). Here they outlive the bench.
  server.http.keepAliveTimeout = 30 * 60_000;
  const { db, dialect } = server.connection;
  try {
    const admin = await db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'ADMIN')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const { token } = await server.app.services.sessions.create(admin.id);
    const now = Date.now();
    const tag = await db
      .insertInto('tags')
      .values({ name: TAG, name_key: TAG.toLowerCase(), name_sort: sortKey(TAG), created_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const files = await db.selectFrom('files').select(['id', 'name']).orderBy('id').execute();
    const batches: { id: number; name: string }[][] = [];
    for (let i = 0; i < files.length; i += BATCH) batches.push(files.slice(i, i + BATCH));
    console.log(
      `\nbulk bench on ${dialect}: ${files.length.toLocaleString('en')} files (seeded in ` +
        `${seeded.toFixed(1)} s), ${batches.length} requests of ${BATCH} per action ` +
        `(load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
    );

    const gql = async (query: string, variables: Record<string, unknown>) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: unknown; errors?: unknown };
      if (!body.data) throw new Error(JSON.stringify(body.errors));
    };
    const ids = (batch: { id: number }[]) => batch.map((f) => String(f.id));
    const inList = (batch: { id: number }[]) => batch.map((f) => f.id);

    const actions: {
      name: string;
      request: (batch: { id: number }[]) => Promise<void>;
      /** Takes the request back, for the warm-up rounds. */
      undo: (batch: { id: number }[]) => Promise<void>;
      baseline: (trx: Db, batch: { id: number; name: string }[], at: number) => Promise<void>;
    }[] = [
      {
        name: 'tagFiles (add a tag)',
        request: (batch) =>
          gql('mutation($ids: [ID!]!) { tagFiles(ids: $ids, add: ["Bulk bench"]) { id } }', {
            ids: ids(batch),
          }),
        undo: (batch) =>
          gql('mutation($ids: [ID!]!) { tagFiles(ids: $ids, remove: ["Bulk bench"]) { id } }', {
            ids: ids(batch),
          }),
        async baseline(trx, batch, at) {
          await trx
            .insertInto('file_tags')
            .columns(['file_id', 'tag_id'])
            .expression((eb) =>
              eb
                .selectFrom('files')
                .select(['id', eb.val(tag.id).as('tag_id')])
                .where('id', 'in', inList(batch)),
            )
            .execute();
          await trx
            .updateTable('files')
            .set({ updated_at: at })
            .where('id', 'in', inList(batch))
            .execute();
          await insertAudit(trx, auditRows(batch, 'file.tags', at));
        },
      },
      {
        name: 'setFilesStatus (hide)',
        request: (batch) =>
          gql('mutation($ids: [ID!]!) { setFilesStatus(ids: $ids, status: HIDDEN) { id } }', {
            ids: ids(batch),
          }),
        undo: (batch) =>
          gql('mutation($ids: [ID!]!) { setFilesStatus(ids: $ids, status: ACTIVE) { id } }', {
            ids: ids(batch),
          }),
        async baseline(trx, batch, at) {
          await trx
            .updateTable('files')
            .set({ status: 'HIDDEN', updated_at: at })
            .where('id', 'in', inList(batch))
            .execute();
          await insertAudit(trx, auditRows(batch, 'file.status', at));
        },
      },
      {
        name: 'deleteFiles (to the trash)',
        request: (batch) =>
          gql('mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }', { ids: ids(batch) }),
        undo: (batch) =>
          gql('mutation($ids: [ID!]!) { restoreFiles(ids: $ids) { id } }', { ids: ids(batch) }),
        async baseline(trx, batch, at) {
          const list = inList(batch);
          const rows: FileRow[] = await trx
            .selectFrom('files')
            .selectAll()
            .where('id', 'in', list)
            .execute();
          const links = await trx
            .selectFrom('file_tags')
            .select(['file_id', 'tag_id'])
            .where('file_id', 'in', list)
            .execute();
          const tagsOf = new Map<number, number[]>();
          for (const l of links)
            tagsOf.set(l.file_id, [...(tagsOf.get(l.file_id) ?? []), l.tag_id]);
          // The links in one statement first: deleting the files with theirs in place would fire
          // the link triggers once per file (on PostgreSQL, each subtracting that file's
          // downloads from its tags' rollups in statements of their own).
          await trx.deleteFrom('file_tags').where('file_id', 'in', list).execute();
          await trx.deleteFrom('files').where('id', 'in', list).execute();
          // Each trashed row carries every column of files: 100 rows a statement stays within
          // SQLite's parameter limit.
          for (let i = 0; i < rows.length; i += 100) {
            await trx
              .insertInto('trashed_files')
              .values(
                rows.slice(i, i + 100).map((r) => ({
                  ...r,
                  deleted_at: at,
                  deleted_by: admin.id,
                  tag_ids: JSON.stringify(tagsOf.get(r.id) ?? []),
                })),
              )
              .execute();
          }
          await insertAudit(trx, auditRows(batch, 'file.delete', at));
        },
      },
    ];

    const table: string[][] = [];
    for (const action of actions) {
      const http: number[] = [];
      const plain: number[] = [];
      // A long-running server has run each path before: the first requests of a fresh process
      // pay for compiling it (up to 3× a warm request here), so each action is sent and taken
      // back WARMUP times on the first batch, unmeasured, leaving the rows as they were.
      for (let i = 0; i < WARMUP; i++) {
        await action.request(batches[0]!);
        await action.undo(batches[0]!);
      }
      await foldTagLinkMoves(db, dialect);
      const folds: number[] = [];
      for (const batch of batches) {
        await timed(plain, () => rolledBack(db, (trx) => action.baseline(trx, batch, Date.now())));
        await timed(http, () => action.request(batch));
        // What the server's background fold does after the request (tag-moves.ts; on SQLite the
        // cross rollups only),
        // timed apart, before the next request comes, as after any bulk action a person sends.
        await timed(folds, () => foldTagLinkMoves(db, dialect));
      }
      const h = summary(http);
      const p = summary(plain);
      const f = summary(folds);
      console.error(`  ${action.name}: p50 ${h.p50} ms, p95 ${h.p95} ms a request`);
      table.push([
        action.name,
        h.p50.toFixed(0),
        h.p95.toFixed(0),
        (h.total / 1000).toFixed(1),
        p.p50.toFixed(0),
        p.p95.toFixed(0),
        (h.p50 / p.p50).toFixed(2),
        h.p95 < 200 ? '✓' : '✗',
        `${f.p50.toFixed(0)} / ${f.p95.toFixed(0)}`,
      ]);
    }

    // One request a file: every file is in the trash now, so some come back (hidden, as they
    // went) and are shown again one updateFile at a time.
    const single: number[] = [];
    const survivors = await db
      .selectFrom('trashed_files')
      .select('id')
      .orderBy('id')
      .limit(SINGLES)
      .execute();
    for (const f of survivors) {
      await gql('mutation($id: ID!) { restoreFile(id: $id) { id } }', { id: String(f.id) });
    }
    for (const f of survivors) {
      await timed(single, () =>
        gql('mutation($id: ID!) { updateFile(id: $id, status: ACTIVE) { id } }', {
          id: String(f.id),
        }),
      );
    }
    const perFile = summary(single).total / single.length;
    const hide = table[1]!;
    printTable(
      [
        'bulk action, 1,000 files a request',
        'p50 ms',
        'p95 ms',
        '10 requests s',
        'plain SQL p50 ms',
        'p95 ms',
        '÷ plain SQL p50',
        'p95 < 200',
        'then folded, p50 / p95 ms',
      ],
      table,
    );
    console.log(
      `updateFile one file a request (status), ${survivors.length} files: ` +
        `${perFile.toFixed(1)} ms a file, ${(perFile * BATCH).toFixed(0)} ms for 1,000 ` +
        `(setFilesStatus: ${hide[1]} ms, ${((perFile * BATCH) / Number(hide[1])).toFixed(1)}× faster)`,
    );
  } finally {
    await server.close();
    await pgDatabase?.drop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
