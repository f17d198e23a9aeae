import { openDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { cliConfig, explainOrThrow } from './setup.js';

const config = cliConfig();
const connection = openDatabase(config.database);
try {
  const result = await migrateToLatest(connection.db);
  const applied = result.results ?? [];
  console.log(
    applied.length
      ? applied.map((r) => `${r.status}: ${r.migrationName}`).join('\n')
      : 'Already up to date.',
  );
} catch (err) {
  explainOrThrow(err, config);
} finally {
  await connection.close();
}
