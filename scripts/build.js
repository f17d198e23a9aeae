// @ts-check
// `npm run build [-- --server]`: the web app (vite) and the server, as `npm start` runs them.
//
// The server, its CLIs and the migrations are bundled into server/dist as plain JavaScript, so
// `npm start` runs Node without compiling TypeScript on every start (tsx stays for `npm run dev`,
// tests and benches). One ESM bundle per entry point with shared chunks: loading a few large
// files is much faster than resolving hundreds of small ones, and code only some setups need
// (the S3 driver and the AWS SDK) sits in a chunk loaded on demand. Types are not checked here;
// `npm run check` does that.
//
// Vite and SvelteKit print hints meant for web developers (preview commands, plugin timings);
// someone starting Cabinet should see Cabinet's lines only, so their output is shown only when
// the build fails.
//
// With --if-stale (what `npm start` and the CLIs use) a part whose sources did not change since
// its last build is not built again: a restart then takes a second instead of the web build's
// fifteen. "Did not change" is a hash of the contents of its inputs (sources, configuration,
// package-lock.json and this script), kept in node_modules/.cache/cabinet-build; `npm run
// build` always builds.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

// Files that modules load at run time by `new URL('./file', import.meta.url)` (worker threads
// that run plain CommonJS): esbuild leaves such URLs alone, so each is copied next to every
// output file that contains its module.
const RUNTIME_FILES = {
  'src/db/read-pool.ts': ['src/db/sqlite-read-worker.cjs'],
  'src/db/wal-checkpointer.ts': ['src/db/sqlite-checkpoint-worker.cjs'],
  'src/streams/sha256-worker.ts': ['src/streams/sha256-worker.cjs'],
  'src/modules/search/name-index.ts': ['src/modules/search/name-index-worker.cjs'],
};
const serverOnly = process.argv.includes('--server');
const ifStale = process.argv.includes('--if-stale');
const started = performance.now();

/** What each part is built from, and the file whose presence says it was built. */
const PARTS = {
  web: {
    dirs: ['web/src', 'web/static'],
    files: ['web/package.json', 'web/svelte.config.js', 'web/vite.config.ts', 'web/tsconfig.json'],
    output: 'web/build/index.html',
  },
  server: {
    dirs: ['server/src', 'migrations'],
    files: ['server/package.json'],
    output: 'server/dist/main.js',
  },
};
const SHARED_INPUTS = ['package-lock.json', 'scripts/build.js'];
const STAMPS = path.join(root, 'node_modules', '.cache', 'cabinet-build');

/**
 * Every file below `dir` (relative to the root), sorted; none when it does not exist.
 * @param {string} dir
 */
async function filesUnder(dir) {
  const entries = await readdir(path.join(root, dir), {
    recursive: true,
    withFileTypes: true,
  }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

/**
 * A hash of the names and contents of the part's inputs.
 * @param {keyof typeof PARTS} part
 */
async function fingerprint(part) {
  const { dirs, files } = PARTS[part];
  const all = [...(await Promise.all(dirs.map(filesUnder))).flat(), ...files, ...SHARED_INPUTS];
  const hash = createHash('sha256');
  for (const file of all) {
    const bytes = await readFile(path.join(root, file)).catch(() => Buffer.alloc(0));
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}

/**
 * Whether the part was built from exactly these inputs and its output is still there.
 * @param {keyof typeof PARTS} part
 * @param {string} print
 */
async function upToDate(part, print) {
  const stamp = await readFile(path.join(STAMPS, `${part}.sha256`), 'utf8').catch(() => '');
  const built = await stat(path.join(root, PARTS[part].output)).then(
    () => true,
    () => false,
  );
  return built && stamp === print;
}

/**
 * Builds `part` with `build` unless --if-stale finds it up to date; true when it built.
 * @param {keyof typeof PARTS} part
 * @param {() => Promise<unknown>} build
 */
async function buildPart(part, build) {
  const print = await fingerprint(part);
  if (ifStale && (await upToDate(part, print))) return false;
  await rm(path.join(STAMPS, `${part}.sha256`), { force: true });
  await build();
  await mkdir(STAMPS, { recursive: true });
  await writeFile(path.join(STAMPS, `${part}.sha256`), print);
  return true;
}

/** Runs `npm run -s build -w web`, holding its output back unless it fails. */
function buildWeb() {
  return new Promise((resolve, reject) => {
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const child = spawn(npm[0], [...npm.slice(1), 'run', '-s', 'build', '-w', 'web'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    /** @type {Buffer[]} */
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) return resolve(undefined);
      process.stderr.write(Buffer.concat(output));
      reject(new Error(`the web build failed (exit code ${code})`));
    });
  });
}

async function buildServer() {
  const server = path.join(root, 'server');
  const outdir = path.join(server, 'dist');
  await rm(outdir, { recursive: true, force: true });
  const { metafile } = await build({
    absWorkingDir: server,
    entryPoints: {
      main: 'src/main.ts',
      'cli/migrate': 'src/cli/migrate.ts',
      'cli/user': 'src/cli/user.ts',
      'cli/seed': 'src/cli/seed.ts',
      'cli/doctor': 'src/cli/doctor.ts',
    },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Less to parse on every start; names stay, so stack traces still read.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    legalComments: 'none',
    chunkNames: 'chunks/[name]-[hash]',
    // Native addons load their binaries relative to their own files, pino its transport
    // workers, and pg-native is an optional peer of pg that is never installed; sharp finds its
    // platform's libvips package beside its own.
    external: ['better-sqlite3', '@node-rs/argon2', 'pino', 'pg-native', 'sharp'],
    // Bundled CommonJS packages still call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as __cabinetRequire } from 'node:module'; const require = __cabinetRequire(import.meta.url);",
    },
    logLevel: 'warning',
    metafile: true,
  });
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    for (const [module, files] of Object.entries(RUNTIME_FILES)) {
      if (!(module in inputs)) continue;
      for (const file of files) {
        const target = path.join(server, path.dirname(output), path.basename(file));
        await copyFile(path.join(server, file), target);
      }
    }
  }
}

/** @type {boolean[]} */
let built;
try {
  built = await Promise.all([
    serverOnly ? false : buildPart('web', buildWeb),
    buildPart('server', buildServer),
  ]);
} catch (err) {
  console.error(`  Cabinet could not be built: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
if (!serverOnly) {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const what = built[0] && built[1] ? 'web app and server' : built[0] ? 'web app' : 'server';
  console.log(
    built[0] || built[1]
      ? `  Cabinet built (${what}) in ${seconds} s`
      : '  Cabinet is built (no source changed since the last build)',
  );
}
