import { ConfigError, loadConfig, type Config } from '../config.js';
import { explainStartError } from '../start-errors.js';

// What every command-line tool does with a setting it cannot use or a database it cannot reach:
// one line saying so (start-errors.ts), not a stack trace.

/** The configuration; a bad setting prints its message and exits with code 2. */
export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

/**
 * For a tool's catch: a failure start-errors.ts can explain (PostgreSQL not reachable, a folder
 * it may not write) prints that line and sets exit code 1; anything else is thrown on.
 */
export function explainOrThrow(err: unknown, config: Config): void {
  const why = explainStartError(err, config);
  if (!why) throw err;
  console.error(why);
  process.exitCode = 1;
}
