import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Connection } from './db/connection.js';
import { migrateToLatest } from './db/migrate.js';
import type { Logger } from './logger.js';
import { createStorage } from './storage/index.js';
import { startHashThread } from './storage/sha256-worker.js';

export interface RunningServer {
  url: string;
  app: App;
  connection: Connection;
  close(): Promise<void>;
}

// Temp objects younger than this may belong to an upload still streaming in another instance.
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

/** Opens the database, migrates, sweeps stale temp uploads and listens. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const connection = openDatabase(config.database);
  await migrateToLatest(connection.db);
  const storage = createStorage(config.storage);
  startHashThread();
  const swept = await storage.sweepTemp(STALE_TEMP_MS);
  if (swept) log.info({ swept }, 'removed temp uploads left by an earlier crash');
  const app = createApp({ config, db: connection.db, dialect: connection.dialect, storage, log });

  const server = http.createServer(app.handle);
  // Uploads of several GiB over slow links: no overall request deadline, but idle sockets close.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  const sessionSweep = setInterval(
    () =>
      app.services.sessions
        .deleteExpired()
        .catch((err: unknown) => log.warn({ err }, 'session sweep failed')),
    60 * 60 * 1000,
  );
  sessionSweep.unref();

  return {
    url: `http://${host}:${port}`,
    app,
    connection,
    async close() {
      clearInterval(sessionSweep);
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      await connection.close();
    },
  };
}
