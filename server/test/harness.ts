import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Connection } from '../src/db/connection.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** One pino log line: `level` 30 is info, 40 warn, 50 error. */
export interface LogRecord {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  dir: string;
  /** POSTs a JSON GraphQL request; `token` goes as a Bearer header. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  /** As `gql`, for a request that must succeed: its data, or an error naming what went wrong. */
  data<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<T>;
  /** Registers a user and returns its session token (the first becomes ADMIN). */
  signUp(
    email: string,
    options?: { name?: string; password?: string },
  ): Promise<{ token: string; id: string }>;
  close(): Promise<void>;
}

/**
 * A real server on a random port with a fresh database and blob folder. With TEST_DATABASE_URL
 * set to a PostgreSQL server, each call creates (and drops) a database of its own.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: {
    /** Collects every log record (at LOG_LEVEL, `info` unless env says otherwise). */
    logs?: LogRecord[];
  } = {},
): Promise<TestServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-test-'));
  const pgDatabase = await createPostgresDatabase();
  const config = loadConfig(
    {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: pgDatabase?.url ?? `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
      FILES_DIR: path.join(dir, 'files'),
      WEB_DIR: '',
      LOG_LEVEL: options.logs ? 'info' : (process.env.TEST_LOG_LEVEL ?? 'silent'),
      ...env,
    },
    dir,
  );
  const logs = options.logs;
  const destination = logs
    ? { write: (line: string) => void logs.push(JSON.parse(line) as LogRecord) }
    : undefined;
  const server = await startServer(config, createLogger(config.logLevel, destination));
  // Tests share one event loop with the server: a test that keeps it busy past the server's
  // 5 s keep-alive lets the server's idle timer and fetch's reuse of that idle socket fire in
  // the same turn, and the request dies with ECONNRESET. Idle sockets here outlive any test.
  server.http.keepAliveTimeout = 10 * 60_000;
  const url = server.url;

  const gql: TestServer['gql'] = async (query, variables = {}, options = {}) => {
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
    const text = await res.text();
    let body: { data?: unknown; errors?: GraphQLResponse['errors'] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`Non-JSON response ${res.status}: ${text.slice(0, 200)}`);
    }
    return {
      status: res.status,
      headers: res.headers,
      ...(body as object),
    } as GraphQLResponse<never>;
  };

  return {
    url,
    server,
    dir,
    gql,
    async data<T>(
      query: string,
      variables?: Record<string, unknown>,
      options?: { token?: string | null },
    ): Promise<T> {
      const res = await gql<T>(query, variables, options);
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      return res.data;
    },
    async signUp(email, options = {}) {
      const res = await gql<{ register: { token: string; user: { id: string } } }>(
        `mutation($email: String!, $name: String!, $password: String!) {
          register(email: $email, name: $name, password: $password) { token user { id } } }`,
        {
          email,
          name: options.name ?? email.split('@')[0],
          password: options.password ?? 'correct horse battery',
        },
      );
      if (!res.data?.register) throw new Error(`sign-up failed: ${JSON.stringify(res.errors)}`);
      return { token: res.data.register.token, id: res.data.register.user.id };
    },
    async close() {
      await server.close();
      await pgDatabase?.drop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** With TEST_DATABASE_URL set, a fresh empty PostgreSQL database (else null) and a way to drop it. */
export async function createPostgresDatabase(): Promise<{
  url: string;
  drop(): Promise<void>;
} | null> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) return null;
  // .ci/run sets a prefix of its own, so it can drop whatever a crashed run left behind.
  const prefix = process.env.TEST_DATABASE_PREFIX || 'cabinet_t';
  if (!/^[a-z][a-z0-9_]{0,40}$/.test(prefix)) throw new Error(`bad TEST_DATABASE_PREFIX ${prefix}`);
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      // pg's pool.end() resolves before its clients have closed their sockets; a forced drop
      // right away kills those backends mid-goodbye, and the clients raise an unhandled error.
      for (let i = 0; i < 100; i++) {
        const { rows } = await c.query<{ n: number }>(
          'select count(*)::int as n from pg_stat_activity where datname = $1',
          [name],
        );
        if (rows[0]!.n === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/**
 * For a test file that works on a database without a server (migration tests): a connection,
 * opened before the file's tests and closed after them, to an empty SQLite database in memory or,
 * with TEST_DATABASE_URL, a fresh PostgreSQL database dropped at the end.
 */
export function bareDatabase(): { readonly connection: Connection } {
  let connection: Connection | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const pg = await createPostgresDatabase();
    drop = pg?.drop;
    connection = openDatabase(
      loadConfig({ DATABASE_URL: pg?.url ?? 'sqlite::memory:', WEB_DIR: '' }).database,
    );
  });
  afterAll(async () => {
    await connection?.close();
    await drop?.();
  });
  return {
    get connection() {
      if (!connection) throw new Error('bareDatabase: used outside a test');
      return connection;
    },
  };
}

/** A database at an older migration, whose rows today's row types no longer describe. */
export type UntypedDb = Kysely<Record<string, Record<string, unknown>>>;

/** Inserts a USER with the columns every migration since the first accepts; its id. */
export async function insertBareUser(db: UntypedDb, at: number): Promise<number> {
  const row = await db
    .insertInto('users')
    .values({ email: 'u@example.com', name: 'U', password_hash: 'x', role: 'USER', created_at: at })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** Inserts tags `names` with the columns every migration since the first accepts; their ids. */
export async function insertBareTags(
  db: UntypedDb,
  at: number,
  names: string[],
): Promise<number[]> {
  const ids: number[] = [];
  for (const name of names) {
    const row = await db
      .insertInto('tags')
      .values({ name, name_key: name, name_sort: name, created_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(Number(row.id));
  }
  return ids;
}

/**
 * Writes to a database at an older migration: a link, its removal, and a download by `userId`
 * (or `user`, null for an anonymous one) `ago` ms before `now`, each fired through the triggers
 * of that migration.
 */
export function bareWrites(db: UntypedDb, userId: number, now: number) {
  return {
    link: (fileId: number, tagId: number) =>
      db.insertInto('file_tags').values({ file_id: fileId, tag_id: tagId }).execute(),
    unlink: (fileId: number, tagId: number) =>
      db
        .deleteFrom('file_tags')
        .where('file_id', '=', fileId)
        .where('tag_id', '=', tagId)
        .execute(),
    download: (fileId: number, ago: number, user: number | null = userId) =>
      db
        .insertInto('downloads')
        .values({ file_id: fileId, file_name: 'x', user_id: user, at: now - ago })
        .execute(),
  };
}

/**
 * Inserts `names` as one-byte text files of `userId` sharing one blob (with its row), with the
 * columns every migration since the first accepts; their rows, in order.
 */
export async function insertBareFiles(
  db: UntypedDb,
  userId: number,
  at: number,
  names: string[],
): Promise<Record<string, unknown>[]> {
  const sha256 = 'a'.repeat(64);
  await db
    .insertInto('blobs')
    .values({ sha256, size: 1, ref_count: names.length, created_at: at })
    .execute();
  const rows: Record<string, unknown>[] = [];
  for (const name of names) {
    const file = { name, name_sort: name, original_name: name, size: 1, sha256 };
    rows.push(
      await db
        .insertInto('files')
        .values({
          ...file,
          mime_type: 'text/plain',
          uploaded_by: userId,
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    );
  }
  return rows;
}

/** The `extensions.code` of the first error, for terse assertions. */
export const errorCode = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.code;
