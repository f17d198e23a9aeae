import pg from 'pg';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import type { Db } from '../src/db/database.js';
import { sortKey } from '../src/db/sort-key.js';
import { createLogger } from '../src/logger.js';
import { AUDIT_ACTIONS, type AuditAction } from '../src/modules/audit/actions.js';
import type { AuditFilter } from '../src/modules/audit/audit.repository.js';
import { mulberry32 } from '../src/cli/mulberry32.js';
import { startServer } from '../src/server.js';
import { percentile, printTable } from './report.js';

// `npm run bench -- audit`: `auditEvents` over a large audit log (issue 16: p95 < 50 ms at
// 1,000,000 events on SQLite and PostgreSQL), through the real HTTP server as an admin, first
// page of 20 with totalCount, for each filter shape the Audit page can produce. Beside each, in
// the same run: the floor, `{ me { id } }` through the same HTTP, session and GraphQL, asked
// right before each request (the ratio is what the audit query adds), and the same page and
// count asked of the audit service directly in this process (the database's share).
//
// The database is BENCH_AUDIT_DATABASE_URL (default sqlite:files/bench-audit.sqlite; e.g.
// postgres://postgres@127.0.0.1:5432/cabinet_bench_audit, created when missing), kept between
// runs: a run tops it up to BENCH_AUDIT_EVENTS events (default 1,000,000) with multi-row
// inserts and seeds nothing when they are there. Events spread over the last 300 days (inside
// the default AUDIT_DAYS, so retention at start takes none), actions and actors skewed as a
// team's log is (bulk file actions and failed sign-ins dominate; a few admins do most).
// BENCH_RUNS (default 40) runs per case after 3 warm-up runs; BENCH_CASES as in queries.ts.

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const WARMUP = 3;
const DAY_MS = 86_400_000;
const SPAN_MS = 300 * DAY_MS;
const ACTORS = 50;

/** Relative frequency of each action in the seeded log. */
const WEIGHTS: Record<AuditAction, number> = {
  'file.tags': 30,
  'file.status': 15,
  'file.delete': 15,
  'auth.login_failed': 12,
  'file.purge': 8,
  'file.restore': 3,
  'share.create': 3,
  'auth.session_revoked': 2,
  'tag.create': 2,
  'share.revoke': 1,
  'tag.update': 1,
  'token.create': 1,
  'auth.password_changed': 1,
  'tag.delete': 0.5,
  'token.revoke': 0.5,
  'auth.locked': 0.5,
  'auth.totp_enabled': 0.5,
  'auth.passkey_added': 0.5,
  'user.ban': 0.3,
  'user.role': 0.3,
  'user.quota': 0.3,
  'auth.password_reset': 0.3,
  'user.unban': 0.2,
  'auth.totp_disabled': 0.2,
  'auth.passkey_deleted': 0.2,
  'auth.oidc_login': 0.2,
  'auth.recovery_codes_regenerated': 0.1,
};

// Seeded as the seed command is: the same log on every machine.
const random = mulberry32(1);

function weighted<T>(items: readonly T[], weights: readonly number[]): () => T {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return () => {
    const x = random() * total;
    return items[cumulative.findIndex((c) => c > x)] ?? items.at(-1)!;
  };
}

/** A PostgreSQL database that does not exist yet is created (on the same server). */
async function ensurePostgresDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name "${name}"`);
  const server = new URL(url);
  server.pathname = '/postgres';
  const client = new pg.Client({ connectionString: server.toString() });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!found.rowCount) await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
}

/** The bench's actors: ACTORS users, the first three admins; created once. */
async function ensureActors(db: Db): Promise<{ id: number; email: string }[]> {
  const existing = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('email', 'like', 'audit-bench-%@example.com')
    .orderBy('id')
    .execute();
  if (existing.length >= ACTORS) return existing.slice(0, ACTORS);
  const now = Date.now();
  await db
    .insertInto('users')
    .values(
      Array.from({ length: ACTORS - existing.length }, (_, k) => {
        const i = existing.length + k;
        const name = `Audit Bench ${i}`;
        return {
          email: `audit-bench-${i}@example.com`,
          name,
          name_sort: sortKey(name),
          // Never a valid hash: these accounts cannot sign in; the bench makes their sessions.
          password_hash: '!',
          role: i < 3 ? ('ADMIN' as const) : ('USER' as const),
          created_at: now - SPAN_MS,
        };
      }),
    )
    .execute();
  return ensureActors(db);
}

/** Adds `n` events between now − SPAN_MS and now, oldest first, in multi-row inserts. */
async function seedEvents(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  actors: { id: number; email: string }[],
  n: number,
) {
  const action = weighted(
    AUDIT_ACTIONS,
    AUDIT_ACTIONS.map((a) => WEIGHTS[a]),
  );
  // Zipf-like: actor k acts ∝ 1/(k+1).
  const actor = weighted(
    actors,
    actors.map((_, k) => 1 / (k + 1)),
  );
  const start = Date.now() - SPAN_MS;
  // 10 columns: SQLite takes 32,766 parameters a statement, PostgreSQL 65,535.
  const perStatement = dialect === 'postgres' ? 5_000 : 3_000;
  const perTransaction = 50_000;
  const began = performance.now();
  for (let t = 0; t < n; t += perTransaction) {
    const end = Math.min(n, t + perTransaction);
    await db.transaction().execute(async (trx) => {
      for (let b = t; b < end; b += perStatement) {
        const rows = Array.from({ length: Math.min(end, b + perStatement) - b }, (_, k) => {
          const i = b + k;
          const a = action();
          const anonymous = a === 'auth.login_failed' || a === 'auth.locked';
          const system = a === 'file.purge' && random() < 0.5;
          const who = anonymous || system ? null : actor();
          const target = a.slice(0, a.indexOf('.'));
          const targetId = 1 + Math.floor(random() * 1_000_000);
          return {
            at: start + Math.floor((i / n) * SPAN_MS),
            actor_id: who?.id ?? null,
            actor_label: who?.email ?? (system ? 'system' : `guess${targetId % 997}@example.com`),
            action: a,
            target_type: anonymous ? 'user' : target,
            target_id: String(targetId),
            target_label: `${target} ${targetId}`,
            address: system ? null : `10.0.${targetId % 256}.${(targetId >> 8) % 256}`,
            details:
              a === 'file.status'
                ? '{"before":{"status":"ACTIVE"},"after":{"status":"HIDDEN"}}'
                : null,
          };
        });
        await trx.insertInto('audit_events').values(rows).execute();
      }
    });
    console.error(`  seeded ${end.toLocaleString('en')} / ${n.toLocaleString('en')} events`);
  }
  const seconds = (performance.now() - began) / 1000;
  await sql`${sql.raw(dialect === 'postgres' ? 'vacuum analyze audit_events' : 'analyze')}`.execute(
    db,
  );
  const total = (performance.now() - began) / 1000;
  console.log(
    `seeded ${n.toLocaleString('en')} events in ${seconds.toFixed(1)} s ` +
      `(${Math.round(n / seconds).toLocaleString('en')}/s), then ` +
      `${dialect === 'postgres' ? 'vacuum analyze' : 'analyze'} ${(total - seconds).toFixed(1)} s`,
  );
}

interface AuditCase {
  name: string;
  args: Record<string, unknown>;
  filter: AuditFilter;
  offset: number;
}

export async function run(): Promise<void> {
  const url = process.env.BENCH_AUDIT_DATABASE_URL ?? 'sqlite:files/bench-audit.sqlite';
  if (url.startsWith('postgres')) await ensurePostgresDatabase(url);
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: url,
    PORT: '0',
    HOST: '127.0.0.1',
    WEB_DIR: '',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  });
  const startedAt = performance.now();
  const server = await startServer(config, createLogger(config.logLevel));
  // Migrations run at start: a run after a new migration shows what it cost on this log.
  console.error(`  server up in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  const { db, dialect } = server.connection;
  try {
    const actors = await ensureActors(db);
    const have = Number(
      (
        await db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
    if (have < EVENTS) await seedEvents(db, dialect, actors, EVENTS - have);
    const total = Math.max(have, EVENTS);

    const admin = actors[0]!;
    const { token } = await server.app.services.sessions.create(admin.id);
    // The busiest actor and action: the heaviest of those filters.
    const busiest = await db
      .selectFrom('audit_events')
      .select(['actor_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('actor_id', 'is not', null)
      .groupBy('actor_id')
      .orderBy('n', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const actorId = busiest.actor_id!;
    const now = Date.now();
    const month = now - 30 * DAY_MS;
    const quarter = now - 90 * DAY_MS;
    const iso = (ms: number) => new Date(ms).toISOString();
    // The GraphQL arguments say the same as the filter, in the API's types (undefined ones are
    // left out of the request body).
    const filtered = (name: string, filter: AuditFilter): AuditCase => ({
      name,
      args: {
        action: filter.action ?? undefined,
        actorId: filter.actorId == null ? undefined : String(filter.actorId),
        from: filter.from == null ? undefined : iso(filter.from),
        to: filter.to == null ? undefined : iso(filter.to),
      },
      filter,
      offset: 0,
    });
    const all: AuditCase[] = [
      filtered('no filter', {}),
      filtered('exact action file.tags', { action: 'file.tags' }),
      filtered('rare action user.ban', { action: 'user.ban' }),
      filtered('family file. (largest)', { action: 'file.' }),
      filtered('family user. (rare)', { action: 'user.' }),
      filtered('busiest actor', { actorId }),
      filtered('time range, last 30 days', { from: month, to: now }),
      { name: 'offset 5000', args: { offset: 5000 }, filter: {}, offset: 5000 },
      filtered('action + actor + from (file.tags, busiest, 90 days)', {
        action: 'file.tags',
        actorId,
        from: quarter,
      }),
      filtered('family + actor + from (auth., busiest, 90 days)', {
        action: 'auth.',
        actorId,
        from: quarter,
      }),
    ];
    const only = process.env.BENCH_CASES?.toLowerCase().split(',').filter(Boolean);
    const cases = only
      ? all.filter((c) => only.some((o) => c.name.toLowerCase().includes(o)))
      : all;

    console.log(
      `\naudit bench on ${dialect}: ${total.toLocaleString('en')} events, ${RUNS} runs per case ` +
        `(load average ${(await import('node:os'))
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
    );
    const query = `query($action: String, $actorId: ID, $from: DateTime, $to: DateTime, $offset: Int) {
      auditEvents(action: $action, actorId: $actorId, from: $from, to: $to, offset: $offset, first: 20) {
        totalCount edges { node { id at actorLabel action targetType targetId targetLabel address details actor { id } } } } }`;
    const ask = async (c: AuditCase) => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables: c.args }),
      });
      const body = (await res.json()) as {
        data?: { auditEvents: { totalCount: number } };
        errors?: unknown;
      };
      if (!body.data) throw new Error(`${c.name}: ${JSON.stringify(body.errors)}`);
      return body.data.auditEvents.totalCount;
    };
    // The floor: the same HTTP request, session and GraphQL for the viewer's own id, asked
    // right before each case's request so both see the same machine load.
    const floor = async () => {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      await res.json();
    };
    const direct = (c: AuditCase) =>
      Promise.all([
        server.app.services.audit.list(c.filter, 21, c.offset),
        server.app.services.audit.count(c.filter),
      ]);
    const rows: string[][] = [];
    for (const c of cases) {
      const times = { gql: [] as number[], floor: [] as number[], direct: [] as number[] };
      let matches = 0;
      for (let i = 0; i < WARMUP + RUNS; i++) {
        let start = performance.now();
        await floor();
        if (i >= WARMUP) times.floor.push(performance.now() - start);
        start = performance.now();
        matches = await ask(c);
        if (i >= WARMUP) times.gql.push(performance.now() - start);
        start = performance.now();
        await direct(c);
        if (i >= WARMUP) times.direct.push(performance.now() - start);
      }
      const g = times.gql.sort((a, b) => a - b);
      const d = times.direct.sort((a, b) => a - b);
      const f = times.floor.sort((a, b) => a - b);
      console.error(
        `  ${c.name}: p50 ${percentile(g, 50).toFixed(1)} ms, p95 ${percentile(g, 95).toFixed(1)} ms`,
      );
      rows.push([
        c.name,
        matches.toLocaleString('en'),
        percentile(g, 50).toFixed(1),
        percentile(g, 95).toFixed(1),
        percentile(f, 50).toFixed(1),
        percentile(f, 95).toFixed(1),
        (percentile(g, 50) / percentile(f, 50)).toFixed(2),
        percentile(d, 50).toFixed(1),
        percentile(d, 95).toFixed(1),
        percentile(g, 95) < 50 ? '✓' : '✗',
      ]);
    }
    const head = [
      'auditEvents (first 20 + totalCount)',
      'matches',
      'GraphQL p50 ms',
      'p95 ms',
      '`me` p50 ms',
      'p95 ms',
      '÷ `me` p50',
      'service p50 ms',
      'p95 ms',
      'p95 < 50',
    ];
    printTable(head, rows);
  } finally {
    await server.close();
  }
}
