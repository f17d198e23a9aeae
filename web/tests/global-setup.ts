import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds what the browser tests run, the web app and the server as `npm start` runs them, unless
 * both are already built from the current sources (`scripts/build.js --if-stale`). Every test
 * server then starts from JavaScript: compiling the server's TypeScript through tsx at each start
 * took twice as long, and a third of the suite's tests start a server of their own.
 */
export default function globalSetup() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  execFileSync(process.execPath, ['scripts/build.js', '--if-stale'], {
    cwd: root,
    stdio: 'inherit',
  });
}
