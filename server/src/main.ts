import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

// Reads the config, starts the server, and stops cleanly on SIGINT/SIGTERM: nothing else.
try {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const server = await startServer(config, log);
  log.info({ url: server.url }, 'Cabinet is listening');
  console.log(
    `\n  Cabinet is running at ${server.url}\n  The first account you register becomes the admin.\n`,
  );
  if (config.webDir === null) console.log('  (web app disabled: WEB_DIR is empty)\n');
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
