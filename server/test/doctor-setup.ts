import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPostgresDatabase, startTestServer, type TestServer } from './harness.js';

// What the doctor's tests share: a server on a temp data folder (and, with TEST_DATABASE_URL, a
// PostgreSQL database of its own), and the real `npm run doctor` command run against it.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface DoctorSetup {
  t: TestServer;
  /** The server's configuration, which the command reads too. */
  env: Record<string, string>;
  /** The temp folder holding FILES_DIR (and the SQLite file). */
  dir: string;
  close(): Promise<void>;
}

export async function startDoctorServer(prefix: string): Promise<DoctorSetup> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const database = await createPostgresDatabase();
  const env = {
    DATABASE_URL: database?.url ?? `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
    FILES_DIR: path.join(dir, 'files'),
    LOG_LEVEL: 'silent',
  };
  const t = await startTestServer(env);
  return {
    t,
    env,
    dir,
    async close() {
      await t.close();
      await database?.drop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The real CLI in a child process, as an operator runs it, its report read through a pipe. */
export const runDoctorCli = (env: Record<string, string>, ...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'server/src/cli/doctor.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
