import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connection.js';
import { runDoctorCli } from './doctor-setup.js';
import { createPostgresDatabase } from './harness.js';

// `npm run seed` writes its rows in bulk (on PostgreSQL its downloads with their triggers off,
// counted into the rollups afterwards): what it leaves must be what the server would have left.
// The real doctor, run after two seeds into one library, checks every counter, rollup and blob.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let env: Record<string, string>;
let drop: (() => Promise<void>) | undefined;
let pgUrl: string | undefined;
let sqliteFile: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-seed-'));
  const pg = await createPostgresDatabase();
  drop = pg?.drop;
  pgUrl = pg?.url;
  sqliteFile = path.join(dir, 'cabinet.sqlite');
  env = {
    DATABASE_URL: pg?.url ?? `sqlite:${sqliteFile}`,
    FILES_DIR: path.join(dir, 'files'),
    LOG_LEVEL: 'silent',
  };
});

afterAll(async () => {
  await drop?.();
  await fs.rm(dir, { recursive: true, force: true });
});

const seed = (...args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'server/src/cli/seed.ts', ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        resolve({ code, out: stdout + stderr });
      },
    );
  });

it('seeds a library twice over that the doctor finds nothing wrong with', async () => {
  for (const run of ['1', '2']) {
    const { code, out } = await seed(
      ...['--files', '300', '--users', '20', '--downloads', '3000', '--seed', run],
    );
    expect(out).toMatch(/done: 300 files, .* 3,000 downloads/);
    expect(code).toBe(0);
  }
  // The seed turned the downloads triggers off while it wrote (on SQLite: dropped them): they
  // must be back, or this download, written as the download route writes one, goes uncounted
  // and the doctor sees the rollups fall behind.
  const conn = openDatabase(
    pgUrl ? { kind: 'postgres', url: pgUrl } : { kind: 'sqlite', file: sqliteFile },
  );
  try {
    const file = await conn.db
      .selectFrom('files')
      .select(['id', 'name'])
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const at = Date.now();
    // As the download route writes one: the history row, and the file's own counter.
    await conn.db
      .insertInto('downloads')
      .values({ file_id: file.id, file_name: file.name, user_id: null, at })
      .execute();
    await conn.db
      .updateTable('files')
      .set((eb) => ({ download_count: eb('download_count', '+', 1), last_downloaded_at: at }))
      .where('id', '=', file.id)
      .execute();
  } finally {
    await conn.close();
  }
  const doctor = await runDoctorCli(env, '--json');
  const report = JSON.parse(doctor.stdout) as {
    remaining: number;
    checks: { id: string; findings: unknown[] }[];
  };
  expect(report.checks.filter((c) => c.findings.length)).toEqual([]);
  expect(report.remaining).toBe(0);
  expect(doctor.code).toBe(0);
}, 180_000);
