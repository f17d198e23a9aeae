import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

// What `npm start` and the CLIs run: the server bundled by scripts/build.js into server/dist. The
// rest of the suite runs the TypeScript through tsx, so only this file would notice a bundle that
// cannot start (a worker file not copied beside its chunk, a dependency that does not bundle).
// It builds the server part only (the web build is test:web's); server/dist is not used by any
// other test.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'server/dist/main.js');
const STAMP = path.join(ROOT, 'node_modules/.cache/cabinet-build/server.sha256');

const build = (...flags: string[]) => {
  const run = spawnSync(process.execPath, ['scripts/build.js', '--server', ...flags], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
};
const builtAt = async () => (await fs.stat(MAIN)).mtimeMs;

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-build-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

it('builds the server once; --if-stale builds again only when its inputs changed', async () => {
  build();
  const first = await builtAt();
  build('--if-stale');
  expect(await builtAt()).toBe(first);
  // A stamp of other inputs (a source edited since) is what a changed fingerprint looks like.
  await fs.writeFile(STAMP, 'inputs of another build');
  build('--if-stale');
  expect(await builtAt()).not.toBe(first);
  expect(await fs.readFile(STAMP, 'utf8')).toMatch(/^[0-9a-f]{64}$/);
}, 120_000);

it('the built server starts on a fresh database and answers /healthz and GraphQL', async () => {
  await fs.access(MAIN); // built by the test above, or by npm start
  const child = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
      FILES_DIR: path.join(dir, 'files'),
      WEB_DIR: '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const running = /Cabinet is running at (http:\/\/\S+)/.exec(out);
        if (running) resolve(running[1]!);
      });
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      void exited.then((code) => reject(new Error(`exited with ${code}: ${out}`)));
    });
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const gql = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(await gql.json()).toEqual({ data: { me: null } });
  } finally {
    child.kill('SIGTERM');
    // A clean stop on SIGTERM: exit code 0.
    expect(await exited).toBe(0);
  }
}, 120_000);

/** Runs the built server (or `script`) with `env` until it exits; its exit code and output. */
function startFails(
  env: Record<string, string>,
  script: string[] = [MAIN],
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, script, {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: `sqlite:${path.join(dir, 'fails.sqlite')}`,
        FILES_DIR: path.join(dir, 'fails'),
        WEB_DIR: '',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('close', (code) => resolve({ code, out }));
    // A server that started after all is the failure this test looks for: stop it.
    child.stdout.on('data', () => {
      if (out.includes('Cabinet is running')) child.kill('SIGTERM');
    });
  });
}

it('a start (or a CLI) that cannot work says why in one line and exits 1, without a stack trace', async () => {
  await fs.access(MAIN);
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const { port } = taken.address() as net.AddressInfo;
  const aFile = path.join(dir, 'a-file');
  await fs.writeFile(aFile, 'not a folder');
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: String(port) }, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*set PORT`)],
    [{ PORT: '0', FILES_DIR: path.join(aFile, 'files') }, /Cannot write .*a-file.*Check FILES_DIR/],
    [
      { PORT: '0', DATABASE_URL: `sqlite:${path.join(aFile, 'db.sqlite')}` },
      /Cannot write .*a-file.*DATABASE_URL/,
    ],
    // Port 1 of this machine: nothing listens there, so PostgreSQL is refused at once.
    [
      { PORT: '0', DATABASE_URL: 'postgres://cabinet@127.0.0.1:1/cabinet' },
      /Cannot reach PostgreSQL at 127\.0\.0\.1:1, database "cabinet" \(ECONNREFUSED\)/,
    ],
  ];
  try {
    for (const [env, why] of cases) {
      const { code, out } = await startFails(env);
      expect(out).toMatch(new RegExp(`Cabinet could not start: ${why.source}`));
      expect(out).not.toMatch(/^\s+at /m);
      expect(code).toBe(1);
    }
    // The operator's tools say the same.
    const cli = await startFails(cases[3]![0], [
      path.join(ROOT, 'server/dist/cli/user.js'),
      'promote',
      'someone@example.test',
    ]);
    expect(cli.out).toMatch(cases[3]![1]);
    expect(cli.out).not.toMatch(/^\s+at /m);
    expect(cli.code).toBe(1);
  } finally {
    taken.close();
  }
}, 120_000);

it('the operator commands answer --help with their usage, and an unknown option with it too, in one line', async () => {
  const cli = (name: string) => path.join(ROOT, `server/dist/cli/${name}.js`);
  for (const name of ['seed', 'doctor', 'user']) {
    await fs.access(cli(name));
    const help = await startFails({}, [cli(name), '--help']);
    expect(help.out).toMatch(new RegExp(`^usage: npm run ${name} `));
    expect(help.code).toBe(0);
  }
  for (const [name, option, why] of [
    ['seed', '--bogus', /Unknown option '--bogus'/],
    ['seed', '--files', /Option '--files <value>' argument missing/],
    ['doctor', '--bogus', /unknown argument\(s\): --bogus/],
  ] as const) {
    const run = await startFails({}, [cli(name), option]);
    expect(run.out).toMatch(new RegExp(`^usage: npm run ${name} `));
    expect(run.out).toMatch(why);
    expect(run.out).not.toMatch(/^\s+at /m);
    expect(run.code).toBe(2);
  }
}, 60_000);
