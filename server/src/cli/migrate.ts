import { loadConfig } from '../config.js';
import { openDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';

const config = loadConfig();
const connection = openDatabase(config.database);
try {
  const result = await migrateToLatest(connection.db);
  const applied = result.results ?? [];
  console.log(
    applied.length
      ? applied.map((r) => `${r.status}: ${r.migrationName}`).join('\n')
      : 'Already up to date.',
  );
} finally {
  await connection.close();
}
