// @ts-check
// `npm run build:native` (also run by `npm install` / `npm ci`, as postinstall): builds
// server/native, the SHA-256 with a savable state that resumable uploads hash with, against the
// Node headers npm is set to build with (as better-sqlite3 is built). Where it cannot be built the
// server still works: resumable uploads then hash with hash-wasm, at ~6x the CPU per byte. So a
// failed build warns and does not fail the install.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const gyp = process.env.npm_config_node_gyp;
const result = gyp
  ? spawnSync(
      process.execPath,
      [gyp, 'rebuild', '--loglevel=warn', '--directory', path.join(root, 'server/native')],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    )
  : null;
if (!result || result.status !== 0) {
  console.warn(
    'server/native was not built: resumable uploads will hash with hash-wasm (slower). ' +
      (gyp ? 'See the node-gyp output above.' : 'Run `npm run build:native`.'),
  );
}
