import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type App } from './app.js';
import type { Config } from './config.js';
import { openDatabase, type Connection } from './db/connection.js';
import { migrateToLatest } from './db/migrate.js';
import { answerClientError } from './http/client-error.js';
import type { Logger } from './logger.js';
import { limiterFactoryFor } from './modules/auth/rate-limit.js';
import { acquireLease } from './modules/maintenance/lease.js';
import { createStorage } from './storage/index.js';
import type { StorageDriver } from './storage/storage.js';
import { startHashThread } from './streams/sha256-worker.js';
import { foldTagLinkMoves } from './modules/stats/tag-moves.js';
import { PURGE_EVERY_MS } from './modules/files/files.service.js';

export interface RunningServer {
  url: string;
  app: App;
  connection: Connection;
  /** The storage driver the server runs on (tests look inside it; the app itself reaches it through its services). */
  storage: StorageDriver;
  /** The listening HTTP server (the test harness tunes its keep-alive). */
  http: http.Server;
  close(): Promise<void>;
}

/**
 * Opens the database, migrates, takes this instance's lease, sweeps what crashed instances left
 * (temp uploads, half-done blob commits) and listens.
 */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const connection = openDatabase(config.database, {
    onCheckpointerStop: (err) =>
      log.warn(
        { err },
        'the SQLite checkpoint thread stopped; commits checkpoint on their own again',
      ),
  });
  await migrateToLatest(connection.db);
  // Before the first upload can start: temp keys and blob intents name this lease.
  const lease = await acquireLease(connection.db, connection.dialect, {
    leaseMs: config.instanceLeaseMs,
    log,
  });
  const storage = await createStorage(config.storage, { instance: lease.id });
  startHashThread();
  await lease.startSweeping(storage);
  const app = createApp({
    config,
    db: connection.db,
    reads: connection.reads,
    dialect: connection.dialect,
    storage,
    limiterFactory: limiterFactoryFor(connection),
    log,
  });

  // Headers are checked for their deadline this often (Node's default, 30 s, would let a
  // slowloris hold a socket for headersTimeout + 30 s).
  const server = http.createServer(
    { connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs) },
    app.handle,
  );
  // Uploads of several GiB over slow links: no overall request deadline. But headers must arrive
  // in time, and a connection that moves no byte either way for idleTimeoutMs (a stalled body, a
  // reader that stopped reading) is cut: an upload may be long, never silent.
  server.requestTimeout = 0;
  server.headersTimeout = config.headersTimeoutMs;
  server.timeout = config.idleTimeoutMs;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;

  // After listening: a large library's search index builds beside the first requests.
  void app.services.files.warmUpSearch();

  const sessionSweep = setInterval(
    () => {
      app.services.sessions
        .deleteExpired()
        .catch((err: unknown) => log.warn({ err }, 'session sweep failed'));
    },
    60 * 60 * 1000,
  );
  sessionSweep.unref();
  // Unfinished resumable uploads past UPLOAD_EXPIRY_HOURS go with their bytes.
  const uploadSweep = setInterval(
    () => {
      app.uploads.sweepExpired().catch((err: unknown) => log.warn({ err }, 'upload sweep failed'));
    },
    10 * 60 * 1000,
  );
  uploadSweep.unref();
  // Retention: trashed files past TRASH_DAYS, audit events past AUDIT_DAYS. Every step deletes
  // only what is still there, so instances sharing a database may run them at the same moment.
  const retention = setInterval(() => {
    app.services.files
      .purgeExpired()
      .catch((err: unknown) => log.warn({ err }, 'trash purge failed'));
    app.services.audit.prune().catch((err: unknown) => log.warn({ err }, 'audit retention failed'));
  }, PURGE_EVERY_MS);
  retention.unref();
  // The tags' rollups (on SQLite, the cross rollups) catch up with retags and trash soon after,
  // so that a statistics read seldom has moves left to fold (modules/stats/tag-moves.ts).
  // One fold at a time: a backlog longer than the period is not folded twice over.
  let folding: Promise<unknown> | null = null;
  const tagMoves = setInterval(() => {
    folding ??= foldTagLinkMoves(connection.db, connection.dialect)
      .catch((err: unknown) => log.warn({ err }, 'folding tag moves failed'))
      .finally(() => (folding = null));
  }, 2_000);
  tagMoves.unref();

  return {
    url: `http://${host}:${port}`,
    app,
    connection,
    storage,
    http: server,
    async close() {
      clearInterval(sessionSweep);
      clearInterval(uploadSweep);
      clearInterval(retention);
      clearInterval(tagMoves);
      await folding;
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      });
      // A resumable upload cut by the close still saves what arrived and lets go of its lock.
      await app.uploads.settle();
      // A lease left behind only lapses: what it names is cleaned up a lease period later.
      await lease.close().catch((err: unknown) => log.warn({ err }, 'could not end the lease'));
      await connection.close();
    },
  };
}
