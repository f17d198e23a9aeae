import { formatReport } from '../src/modules/maintenance/doctor.js';
import { runChaos } from './chaos-runner.js';

// npm run chaos [-- --rounds N] [--seed S] [--postgres URL] [--workers W]
// Kills the real server at random moments under load and checks afterwards that nothing drifted
// or leaked (chaos-runner.ts). PostgreSQL when --postgres or TEST_DATABASE_URL names a server
// (a fresh database is created there and dropped), else SQLite. Exit code 1 when a check fails.

const args = process.argv.slice(2);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const int = (name: string, fallback: number) => {
  const raw = value(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`${name} needs a whole number`);
    process.exit(2);
  }
  return n;
};

const seed = int('--seed', Math.floor(Math.random() * 2 ** 31));
const rounds = int('--rounds', 3);
const workers = int('--workers', 6);
const postgres = value('--postgres') ?? process.env.TEST_DATABASE_URL ?? null;

console.log(
  `chaos: ${rounds} round(s), ${workers} clients, seed ${seed} (--seed ${seed} repeats the kill moments), ` +
    `${postgres ? 'PostgreSQL' : 'SQLite'}`,
);
const started = Date.now();
const result = await runChaos({
  rounds,
  seed,
  postgres,
  workers,
  log: (line) => console.log(line),
});
console.log(`\ndoctor after ${result.rounds.length} kill(s), ${Date.now() - started} ms in all:`);
console.log(formatReport(result.report));
const { temps, intents, leases } = result.leftovers;
console.log(`left in storage temp: ${temps}, blob intents: ${intents}, leases: ${leases}`);
if (result.unexpected.length) {
  console.log(`\nanswers no crash explains (${result.unexpected.length}):`);
  for (const line of result.unexpected.slice(0, 30)) console.log(`  ${line}`);
}
if (!result.ok || result.unexpected.length) {
  console.error(`\nCHAOS FAILED (seed ${seed})`);
  process.exit(1);
}
console.log('\nchaos: all checks passed');
