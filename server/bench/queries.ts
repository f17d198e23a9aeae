import {
  createHistogram,
  monitorEventLoopDelay,
  type Histogram,
  type RecordableHistogram,
} from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, sql, type LogEvent } from 'kysely';
import { loadConfig, type Config } from '../src/config.js';
import type { Database, Db } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { tagListing } from '../src/modules/tags/tags.repository.js';
import { startServer } from '../src/server.js';
import { searchCases } from './search-cases.js';
import { statsCases } from './stats-cases.js';
import { percentile, printTable } from './report.js';

// `npm run bench -- queries`: on a seeded library (npm run seed), p50/p95 of the API's typical
// reads through the real HTTP server, each next to the same SQL run bare in the same process.
//
// "Same SQL": each case also runs the repository functions its resolvers call on a second,
// logging connection; the statements they issue (text and parameters) are captured once and then
// replayed straight through the server's own connection. The ratio GraphQL / SQL is what HTTP,
// authentication, GraphQL parsing, validation, execution, JSON and the in-memory work of tag
// filters (intersecting the tags' postings, tag-postings.ts) cost on top of the database.

//
// BENCH_CASES=a,b runs only the cases whose name contains one of the comma-separated parts
// (case-insensitive), e.g. BENCH_CASES='typed' for the search shapes typing produces.

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 3;

export interface Case {
  name: string;
  as: 'user' | 'admin';
  query: string;
  variables: Record<string, unknown>;
  /** Calls what the resolvers call, on the logging connection. */
  capture(db: Db): Promise<void>;
}

function loggingDb(config: Config['database'], log: (e: LogEvent) => void): Kysely<Database> {
  if (config.kind === 'postgres') {
    return new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: config.url, max: 2 }) }),
      log,
    });
  }
  const database = new SQLite(config.file);
  database.pragma('cache_size = -131072');
  database.pragma('mmap_size = 4294967296');
  database.function('lower', { deterministic: true }, (v: unknown) =>
    typeof v === 'string' ? v.toLowerCase() : v,
  );
  return new Kysely<Database>({ dialect: new SqliteDialect({ database }), log });
}

/**
 * fetch, sent again once when the server closed a kept-alive connection just as it was reused:
 * the bare SQL runs of a slow case hold this process's loop for seconds, and both sides' idle
 * timers then fire late and race. The request never reached the server, so nothing runs twice.
 */
async function post(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET') throw err;
    return fetch(url, init);
  }
}

/** p50, p99 and max of a loop-delay histogram, in milliseconds. */
const loopFigures = (h: Histogram) =>
  `p50 ${(h.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(h.percentile(99) / 1e6).toFixed(1)} ms, ` +
  `max ${(h.max / 1e6).toFixed(1)} ms`;

/**
 * Records how late a 5 ms timer comes, into `into`, until the returned stop is called. Started
 * afresh around each request: monitorEventLoopDelay, paused while the bare SQL ran synchronously
 * on this loop, counted that whole pause as the first delay after it (a 1.4 s statement showed as
 * a 2 s stall of the server).
 */
function sampleLoop(into: RecordableHistogram): () => void {
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    into.record(Math.max(1, Math.round((now - last - 5) * 1e6)));
    last = now;
  }, 5);
  return () => clearInterval(timer);
}

/**
 * /healthz once, in milliseconds. Retried once on a reset: after the bench's own bare SQL held
 * this process's event loop for seconds (the server's reads run on its read pool, but the bench
 * shares the process), the server's keep-alive timer closes idle sockets the moment the loop is
 * free, and the client may have reused one of them an instant before (as browsers do, it asks
 * again).
 */
async function healthz(url: string): Promise<number> {
  const start = performance.now();
  const res = await fetch(`${url}/healthz`).catch((err: Error & { cause?: { code?: string } }) => {
    if (err.cause?.code !== 'ECONNRESET') throw err;
    return fetch(`${url}/healthz`);
  });
  await res.text();
  return performance.now() - start;
}

/**
 * The first one-character search of a fresh server builds the name index (search/name-index.ts):
 * how long it takes, and what /healthz (asked every 20 ms) and the event loop go through
 * meanwhile. Runs before any case, so the server's index is not built yet.
 */
async function nameIndexBuild(url: string, token: string): Promise<void> {
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) idle.push(await healthz(url));
  const probes: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  let building = true;
  const prober = (async () => {
    while (building) {
      probes.push(await healthz(url));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const start = performance.now();
  const res = await post(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ files(query: "e", first: 1) { totalCount } }' }),
  });
  const body = (await res.json()) as { errors?: unknown };
  const took = performance.now() - start;
  building = false;
  await prober;
  loop.disable();
  if (body.errors) throw new Error(`name index build: ${JSON.stringify(body.errors)}`);
  idle.sort((a, b) => a - b);
  probes.sort((a, b) => a - b);
  console.log(
    `name index build (first query "e"): ${(took / 1000).toFixed(1)} s; /healthz meanwhile ` +
      `p50 ${percentile(probes, 50).toFixed(1)} ms, p99 ${percentile(probes, 99).toFixed(1)} ms, ` +
      `max ${probes.at(-1)?.toFixed(1)} ms over ${probes.length} probes (idle p50 ` +
      `${percentile(idle, 50).toFixed(1)} ms); event-loop delay ${loopFigures(loop)}`,
  );
}

export async function run(): Promise<void> {
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    WEB_DIR: '',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  });
  const server = await startServer(config, createLogger(config.logLevel));
  const { db, dialect } = server.connection;
  const captured: CompiledQuery[] = [];
  const logDb = loggingDb(config.database, (e) => {
    if (e.level === 'query') captured.push(e.query);
  });
  try {
    const totals = await db.selectFrom('file_totals').select(['status', 'files']).execute();
    const libraryFiles = totals.reduce((s, t) => s + Number(t.files), 0);
    const downloads = await db
      .selectFrom('download_hours')
      .select((eb) => eb.fn.sum<number>('downloads').as('n'))
      .executeTakeFirst();
    console.log(
      `\nqueries bench on ${dialect}: ${libraryFiles.toLocaleString('en')} files, ` +
        `${Number(downloads?.n ?? 0).toLocaleString('en')} downloads, ${RUNS} runs per case`,
    );
    if (libraryFiles < 10_000) {
      console.log(
        'The library is small: seed one first, e.g. ' +
          '`npm run seed -- --files 1000000 --users 2000 --downloads 5000000`.',
      );
    }

    // Sessions for an admin and a plain user of the seeded library.
    const admin = await db
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'ADMIN')
      .where('banned', '=', 0)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const user = await db
      .selectFrom('users')
      .selectAll()
      .where('role', '=', 'USER')
      .where('banned', '=', 0)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const tokens = {
      admin: (await server.app.services.sessions.create(admin.id)).token,
      user: (await server.app.services.sessions.create(user.id)).token,
    };

    // Two popular topical tags (the type tags Image/Video/Audio/Other left aside).
    const popular = await db
      .selectFrom('tags')
      .select(['id', 'name', 'files_active'])
      .where('name_key', 'not in', ['image', 'video', 'audio', 'other'])
      .orderBy('files_active', 'desc')
      .limit(2)
      .execute();
    const word = process.env.BENCH_QUERY ?? 'budget';

    await nameIndexBuild(server.url, tokens.user);

    const all: Case[] = [
      // The search cases live in search-cases.ts.
      ...searchCases({ dialect, users: { admin, user }, popular, word }),
      {
        name: 'tags listing (50, with counts)',
        as: 'user',
        query: `{ tags(first: 50) { totalCount edges { node { id name fileCount downloadCount } } } }`,
        variables: {},
        async capture(d) {
          await tagListing.list(d, { query: null, admin: false }, 51, 0, 'NAME');
          await tagListing.count(d, { query: null, admin: false });
        },
      },
      // The statistics cases live in stats-cases.ts.
      ...(await statsCases(db, dialect, admin)),
    ];
    const only = process.env.BENCH_CASES?.toLowerCase().split(',').filter(Boolean);
    const cases = only
      ? all.filter((c) => only.some((o) => c.name.toLowerCase().includes(o)))
      : all;

    // The event loop's delay while the server answers the cases (sampled during the GraphQL runs
    // only: the bare SQL baseline runs on this process's loop by design): how long any other
    // request (a download, /healthz) can be kept waiting behind them.
    const loop = createHistogram();
    /** One case through the server, as a client would send it; fails on any GraphQL error. */
    const ask = async (c: Case) => {
      const res = await post(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[c.as]}` },
        body: JSON.stringify({ query: c.query, variables: c.variables }),
      });
      const body = (await res.json()) as { errors?: unknown };
      if (body.errors) throw new Error(`${c.name}: ${JSON.stringify(body.errors)}`);
    };
    const rows: string[][] = [];
    const p95ByCase = new Map<Case, number>();
    for (const c of cases) {
      // Captured warm: a request in steady state finds the tags' postings in memory (kept per
      // process, search/postings.ts) and only checks their versions; the cold load is not replayed.
      await c.capture(logDb as Db);
      captured.length = 0;
      await c.capture(logDb as Db);
      const statements = [...captured];
      const gql = () => ask(c);
      const raw = async () => {
        for (const q of statements) await db.executeQuery(q);
      };
      const times = { gql: [] as number[], sql: [] as number[] };
      for (let i = 0; i < WARMUP + RUNS; i++) {
        for (const [key, fn] of [
          ['gql', gql],
          ['sql', raw],
        ] as const) {
          const stopSampling = key === 'gql' ? sampleLoop(loop) : null;
          const start = performance.now();
          await fn();
          if (i >= WARMUP) times[key].push(performance.now() - start);
          stopSampling?.();
        }
      }
      const g = times.gql.sort((a, b) => a - b);
      const s = times.sql.sort((a, b) => a - b);
      p95ByCase.set(c, percentile(g, 95));
      // Progress on stderr: a long run shows what it has done so far.
      console.error(
        `  ${c.name}: GraphQL p50 ${percentile(g, 50).toFixed(1)} ms, p95 ${percentile(g, 95).toFixed(1)} ms`,
      );
      rows.push([
        c.name,
        percentile(g, 50).toFixed(1),
        percentile(g, 95).toFixed(1),
        percentile(s, 50).toFixed(1),
        percentile(s, 95).toFixed(1),
        (percentile(g, 50) / percentile(s, 50)).toFixed(2),
        (percentile(g, 95) / percentile(s, 95)).toFixed(2),
        String(statements.length),
      ]);
    }
    const head = [
      'query',
      'GraphQL p50 ms',
      'p95 ms',
      'SQL p50 ms',
      'p95 ms',
      'ratio p50',
      'ratio p95',
      'statements',
    ];
    printTable(head, rows);
    console.log(`\nevent-loop delay while the server answered the cases: ${loopFigures(loop)}`);

    // The worst three searches, four requests at a time, while /healthz is asked every 20 ms: what
    // a health check (or any short request) waits behind the heaviest reads.
    const worst = [...p95ByCase.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([c]) => c);
    const health = () => healthz(server.url);
    const idle: number[] = [];
    for (let i = 0; i < 50; i++) idle.push(await health());
    const busy: number[] = [];
    const loaded = monitorEventLoopDelay({ resolution: 5 });
    loaded.enable();
    let running = true;
    const prober = (async () => {
      while (running) {
        busy.push(await health());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    for (const c of worst) {
      for (let round = 0; round < Math.max(5, RUNS / 4); round++) {
        await Promise.all(Array.from({ length: 4 }, () => ask(c)));
      }
    }
    running = false;
    await prober;
    loaded.disable();
    idle.sort((a, b) => a - b);
    busy.sort((a, b) => a - b);
    console.log(
      `/healthz while ${worst.map((c) => `"${c.name}"`).join(', ')} run four at a time: ` +
        `p50 ${percentile(busy, 50).toFixed(1)} ms, p99 ${percentile(busy, 99).toFixed(1)} ms, ` +
        `max ${busy.at(-1)!.toFixed(1)} ms over ${busy.length} probes ` +
        `(idle p50 ${percentile(idle, 50).toFixed(1)} ms: p99 is ` +
        `${(percentile(busy, 99) / percentile(idle, 50)).toFixed(1)}x idle; target < 100 ms)`,
    );
    console.log(`event-loop delay meanwhile: ${loopFigures(loaded)}`);
    void sql;
  } finally {
    await logDb.destroy();
    await server.close();
  }
}
