import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer, type RunningServer } from './server.js';
import { explainStartError } from './start-errors.js';

// Reads the config, starts the server, and stops cleanly on SIGINT/SIGTERM: nothing else.
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);

  // The handlers go in before anything starts and stay in (`on`, not `once`): a signal that lands
  // while the server starts waits for the start, and a second one while it closes is ignored.
  // With a one-shot handler, Node restores the default action once it fired, and a repeated
  // signal killed the process halfway through its clean stop.
  let server: RunningServer | null = null;
  let stopping = false;
  const stop = () => {
    if (stopping || !server) {
      stopping = true;
      return;
    }
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    server = await startServer(config, log);
  } catch (error) {
    const why = explainStartError(error, config);
    if (!why) throw error;
    console.error(`\n  Cabinet could not start: ${why}\n`);
    process.exit(1);
  }
  log.info({ url: server.url }, 'Cabinet is listening');
  console.log(
    `\n  Cabinet is running at ${server.url}\n  The first account you register becomes the admin.\n`,
  );
  if (config.webDir === null) console.log('  (web app disabled: WEB_DIR is empty)\n');
  if (stopping) {
    // Asked to stop while starting.
    stopping = false;
    stop();
  }
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
