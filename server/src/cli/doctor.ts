import { openDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { formatReport, runDoctor } from '../modules/maintenance/doctor.js';
import { listLeases } from '../modules/maintenance/instances.repository.js';
import { explainStartError } from '../start-errors.js';
import { createStorage } from '../storage/index.js';
import { cliConfig } from './setup.js';

// `npm run doctor [-- --repair] [--json]`: checks the database, the counters and the blob store
// against each other (modules/maintenance/doctor.ts). Exit code 0 when nothing is wrong (or
// everything found was repaired), 1 when problems remain, 2 when it could not run.

const args = process.argv.slice(2);
const usage = 'usage: npm run doctor [-- --repair] [--json]';
if (args.includes('--help') || args.includes('-h')) {
  console.log(usage);
  process.exit(0);
}
const unknown = args.filter((a) => a !== '--repair' && a !== '--json');
if (unknown.length) {
  console.error(`${usage}\nunknown argument(s): ${unknown.join(' ')}`);
  process.exit(2);
}
const repair = args.includes('--repair');
const json = args.includes('--json');

const config = cliConfig();
const connection = openDatabase(config.database);
let code = 2;
try {
  await migrateToLatest(connection.db);
  const { db, dialect } = connection;
  if (repair && dialect === 'sqlite') {
    // A server's blob lock on SQLite lives in its own process: deleting objects from here could
    // race one of its uploads of the same bytes.
    const live = (await listLeases(db, dialect)).filter((l) => l.live);
    if (live.length) {
      throw new Error(
        `A server is running on this SQLite database (instance ${live[0]!.id}); stop it before ` +
          `--repair. If it crashed, its lease ends at ${new Date(live[0]!.expiresAt).toISOString()}.`,
      );
    }
  }
  const storage = await createStorage(config.storage);
  const report = await runDoctor({ db, dialect, storage }, { repair });
  // Written before the exit below, and waited for: a pipe takes a large report in parts, and
  // exiting with parts left cut `--json` at 64 KiB.
  await new Promise((resolve) =>
    process.stdout.write(
      `${json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`,
      resolve,
    ),
  );
  code = report.remaining ? 1 : 0;
} catch (err) {
  console.error(explainStartError(err, config) ?? (err instanceof Error ? err.message : err));
} finally {
  await connection.close();
}
// An S3 client keeps sockets open for a while; nothing else is left to do.
process.exit(code);
