import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `npm run bench -- startup`: launch → first healthy `/healthz` of the built server (what
// `npm start` runs: `node server/dist/main.js`), next to the same server run from TypeScript
// through tsx (what `npm start` ran before, and `npm run dev` still runs), on an already migrated
// SQLite database with local storage and no web app. BENCH_STARTUP_ROUNDS rounds (default 5),
// each a built start right after a tsx start so both see the same machine load; medians, and the
// ratio's median and range. The server is built first (`npm run build:server`).

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS ?? 5);

const launchers = {
  tsx: ['--import', 'tsx', 'server/src/main.ts'],
  built: ['server/dist/main.js'],
} as const;

export async function run(): Promise<void> {
  await exec(process.execPath, ['scripts/build.js', '--server']);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-bench-startup-'));
  const env = {
    DATABASE_URL: `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
    FILES_DIR: path.join(dir, 'files'),
    WEB_DIR: '',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
  try {
    await exec(process.execPath, ['server/dist/cli/migrate.js'], env);
    // One unmeasured start of each: the first reads every file from disk into the page cache.
    for (const args of Object.values(launchers)) await timeStart(args, env);

    const rounds: { tsx: number; built: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const tsx = await timeStart(launchers.tsx, env);
      const built = await timeStart(launchers.built, env);
      rounds.push({ tsx, built });
      console.log(
        `round ${i + 1}/${ROUNDS}: tsx ${tsx.toFixed(0)} ms, built ${built.toFixed(0)} ms ` +
          `(${(tsx / built).toFixed(2)}× faster)`,
      );
    }
    const ratios = rounds.map((r) => r.tsx / r.built).sort((a, b) => a - b);
    const tsx = median(rounds.map((r) => r.tsx));
    const built = median(rounds.map((r) => r.built));
    console.log(
      `\nStart-up, launch → healthy /healthz (median of ${ROUNDS}, load average ` +
        `${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)\n`,
    );
    console.log('| server                             |     ms |');
    console.log('| ---------------------------------- | -----: |');
    console.log(`| tsx: node --import tsx src/main.ts | ${pad(tsx)} |`);
    console.log(`| built: node server/dist/main.js    | ${pad(built)} |`);
    console.log(
      `\nbuilt ${built < 1000 ? '✓' : '✗'} (target < 1000 ms); tsx ÷ built ` +
        `${median(ratios).toFixed(2)}× (${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)})`,
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** Milliseconds from spawning the server until `/healthz` answers 200; then stops it. */
async function timeStart(args: readonly string[], env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error('server did not become healthy in 60 s');
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      if (res?.ok) return performance.now() - started;
      await res?.arrayBuffer();
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await stop(child);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('port')),
      );
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function exec(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(' ')} exited with ${code}`)),
    );
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const pad = (ms: number) => ms.toFixed(0).padStart(6);
