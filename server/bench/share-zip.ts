import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// `npm run bench -- share-zip`: the share link ZIP against the plain download route, in the same
// run on the same server (a child process; this process is only the client). Two libraries:
// BENCH_ZIP_SMALL (default 1000) files of 1–64 KiB, and BENCH_ZIP_LARGE (default 4) files of
// BENCH_ZIP_LARGE_MB (default 256) MiB. For each: the time to fetch every file through
// `/files/:id/download` one after the other, and the time to fetch `/s/<token>/zip` once;
// throughput ratio ZIP ÷ plain (the target is ≥ 0.8), and the server's RSS before and
// its peak (VmHWM, reset just before) during the ZIP, to show it stays flat. Medians of
// BENCH_ZIP_ROUNDS (default 3) rounds, each ZIP right after its baseline.

const MiB = 1024 * 1024;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Server {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(dir: string): Promise<Server> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
      FILES_DIR: path.join(dir, 'files'),
      WEB_DIR: '',
      LOG_LEVEL: 'warn',
      AUTH_RATE_PER_ADDRESS: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function gql<T>(url: string, query: string, variables: object, token?: string): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function upload(url: string, token: string, name: string, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.set(
    'operations',
    JSON.stringify({
      query: 'mutation($file: Upload!) { uploadFile(file: $file) { id } }',
      variables: { file: null },
    }),
  );
  form.set('map', JSON.stringify({ 0: ['variables.file'] }));
  form.set('0', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const body = (await res.json()) as { data?: { uploadFile: { id: string } }; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.uploadFile.id;
}

/** Reads a response to its end without keeping it; the byte count. */
async function drain(res: Response): Promise<number> {
  let n = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) n += chunk.length;
  return n;
}

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function library(
  server: Server,
  token: string,
  label: string,
  sizes: number[],
  rounds: number,
): Promise<string> {
  const ids: string[] = [];
  // One buffer of the largest size; each file takes a slice with its own first bytes, so no two
  // files share a blob and the ZIP reads as many blobs as the plain downloads.
  const pool = randomBytes(Math.max(...sizes));
  for (const [i, size] of sizes.entries()) {
    const bytes = Buffer.from(pool.subarray(0, size));
    bytes.writeUInt32BE(i, 0);
    ids.push(await upload(server.url, token, `f${i}.bin`, bytes));
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const ratios: number[] = [];
  const plainRates: number[] = [];
  const zipRates: number[] = [];
  let peak = 0;
  let before = 0;
  for (let round = 0; round < rounds; round++) {
    let start = performance.now();
    for (const id of ids) {
      await drain(
        await fetch(`${server.url}/files/${id}/download`, {
          headers: { authorization: `Bearer ${token}` },
        }),
      );
    }
    const plain = total / MiB / ((performance.now() - start) / 1000);
    const link = await gql<{ createShareLink: { url: string } }>(
      server.url,
      'mutation($f: [ID!]!) { createShareLink(fileIds: $f) { url } }',
      { f: ids },
      token,
    );
    before = (await memory(server.pid)).rss;
    await fs.writeFile(`/proc/${server.pid}/clear_refs`, '5').catch(() => undefined);
    start = performance.now();
    const bytes = await drain(await fetch(`${link.createShareLink.url}/zip`));
    const zip = bytes / MiB / ((performance.now() - start) / 1000);
    peak = Math.max(peak, (await memory(server.pid)).hwm - before);
    plainRates.push(plain);
    zipRates.push(zip);
    ratios.push(zip / plain);
  }
  return (
    `| ${label} | ${median(plainRates).toFixed(0)} MiB/s | ${median(zipRates).toFixed(0)} MiB/s | ` +
    `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ` +
    `${(before / MiB).toFixed(0)} MiB | +${(peak / MiB).toFixed(0)} MiB |`
  );
}

export async function run(): Promise<void> {
  const small = Number(process.env.BENCH_ZIP_SMALL ?? 1000);
  const large = Number(process.env.BENCH_ZIP_LARGE ?? 4);
  const largeMb = Number(process.env.BENCH_ZIP_LARGE_MB ?? 256);
  const rounds = Number(process.env.BENCH_ZIP_ROUNDS ?? 3);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-zip-bench-'));
  const server = await startServer(dir);
  try {
    const { register } = await gql<{ register: { token: string } }>(
      server.url,
      'mutation { register(email: "bench@example.com", name: "Bench", password: "correct horse battery") { token } }',
      {},
    );
    const rows = [
      await library(
        server,
        register.token,
        `${small} files of 1–64 KiB`,
        Array.from({ length: small }, (_, i) => 1024 + ((i * 7919) % (63 * 1024))),
        rounds,
      ),
      await library(
        server,
        register.token,
        `${large} files of ${largeMb} MiB`,
        Array.from({ length: large }, () => largeMb * MiB),
        rounds,
      ),
    ];
    console.log(
      [
        '',
        `share link ZIP vs the download route (medians of ${rounds} rounds, local storage, SQLite)`,
        '| library | plain downloads, one after another | ZIP | ratio (range) | RSS before | peak RSS growth during the ZIP |',
        '| --- | --- | --- | --- | --- | --- |',
        ...rows,
      ].join('\n'),
    );
  } finally {
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
