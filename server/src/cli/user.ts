import { openDatabase } from '../db/connection.js';
import { migrateToLatest } from '../db/migrate.js';
import { clearTotp } from '../modules/auth/totp.repository.js';
import { findUserByEmail, updateUser } from '../modules/users/users.repository.js';
import { cliConfig, explainOrThrow } from './setup.js';

// Operator commands that need no running server: `npm run user -- promote <email>`.
const [command, email] = process.argv.slice(2);
const usage =
  'usage: npm run user -- promote <email> | demote <email> | unban <email> | disable-totp <email>';
const roles = {
  promote: { role: 'ADMIN' },
  demote: { role: 'USER' },
  unban: { banned: 0 },
  // An admin who lost the phone and the recovery codes, with no other admin to turn it off.
  'disable-totp': null,
} as const;

if (command === '--help' || command === '-h') {
  console.log(usage);
  process.exit(0);
}
if (!command || !email || !(command in roles)) {
  console.error(usage);
  process.exit(2);
}
const config = cliConfig();
const connection = openDatabase(config.database);
try {
  await migrateToLatest(connection.db);
  const user = await findUserByEmail(connection.db, email.trim().toLowerCase());
  if (!user) {
    console.error(`No user with email ${email}.`);
    process.exitCode = 1;
  } else {
    const change = roles[command as keyof typeof roles];
    if (change) await updateUser(connection.db, user.id, change);
    else await clearTotp(connection.db, user.id);
    console.log(`${command}: done for ${user.email}.`);
  }
} catch (err) {
  explainOrThrow(err, config);
} finally {
  await connection.close();
}
