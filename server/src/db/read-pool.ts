import os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Database, Db } from './database.js';

// better-sqlite3 runs every statement on the calling thread. On the main thread one heavy read
// (a two-letter search scanning a million names, a year of statistics) would hold the event loop,
// and with it every other request, /healthz included, for as long as it runs. Heavy reads go to
// read-only connections on worker threads instead: the main thread only waits for their rows.
// Writes and write transactions stay on the main connection, whose single writer SQLite requires;
// in WAL mode the readers see every committed write and never block it.

interface Job {
  resolve(rows: unknown[]): void;
  reject(error: Error): void;
}

type Reply =
  { id: number; rows: unknown[] } | { id: number; error: { message: string; code?: string } };

class ReadThread {
  readonly jobs = new Map<number, Job>();
  readonly #worker: Worker;
  dead = false;

  constructor(file: string, onExit: () => void) {
    this.#worker = new Worker(new URL('./sqlite-read-worker.cjs', import.meta.url), {
      workerData: { file },
    });
    this.#worker.unref();
    this.#worker.on('message', (reply: Reply) => {
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      if ('error' in reply) {
        job.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      } else job.resolve(reply.rows);
    });
    const fail = (error: Error) => {
      if (this.dead) return;
      this.dead = true;
      for (const job of this.jobs.values()) job.reject(error);
      this.jobs.clear();
      onExit();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`read worker exited with ${code}`)));
  }

  /** Sends one message (a statement, or a snapshot's begin or end) and waits for its answer. */
  send(message: { id: number } & Record<string, unknown>): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.jobs.set(message.id, { resolve, reject });
      this.#worker.postMessage(message);
    });
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.#worker.terminate();
  }
}

/**
 * Read-only connections on worker threads, each statement to the least busy one. The threads
 * start with the first statement, so commands that only migrate or write never pay for them.
 */
export class SqliteReadPool {
  readonly #file: string;
  readonly #size: number;
  readonly #threads: ReadThread[] = [];
  #nextId = 1;

  constructor(file: string, size = Math.max(1, Math.min(4, os.availableParallelism()))) {
    this.#file = file;
    this.#size = size;
  }

  #spawn(): ReadThread {
    const thread: ReadThread = new ReadThread(this.#file, () => {
      // A worker that died (out of memory, a native fault) is replaced; its jobs failed.
      const index = this.#threads.indexOf(thread);
      if (index >= 0 && !this.#closed) this.#threads[index] = this.#spawn();
    });
    return thread;
  }

  #closed = false;

  #leastBusy(): ReadThread {
    while (this.#threads.length < this.#size) this.#threads.push(this.#spawn());
    return this.#threads.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  run(sql: string, parameters: readonly unknown[]): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(new Error('The read pool is closed.'));
    return this.#leastBusy().send({ id: this.#nextId++, sql, parameters });
  }

  /**
   * A read snapshot: a read transaction on a connection of its own on one thread, which sees the
   * database as it was when it began until `end`.
   */
  async begin(): Promise<Snapshot> {
    if (this.#closed) throw new Error('The read pool is closed.');
    const thread = this.#leastBusy();
    const snapshot = this.#nextId++;
    await thread.send({ id: this.#nextId++, begin: snapshot });
    return {
      run: (sql, parameters) => thread.send({ id: this.#nextId++, sql, parameters, snapshot }),
      end: async () => {
        // A thread that died took its connections, and with them the transaction, along.
        if (!thread.dead) await thread.send({ id: this.#nextId++, end: snapshot });
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}

interface Snapshot {
  run(sql: string, parameters: readonly unknown[]): Promise<unknown[]>;
  end(): Promise<void>;
}

class ReadPoolConnection implements DatabaseConnection {
  /** Set between beginTransaction and its commit or rollback: statements go to the snapshot. */
  snapshot: Snapshot | null = null;

  constructor(readonly pool: SqliteReadPool) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const rows = this.snapshot
      ? await this.snapshot.run(query.sql, query.parameters)
      : await this.pool.run(query.sql, query.parameters);
    return { rows: rows as R[] };
  }

  // eslint-disable-next-line require-yield -- an async generator that only refuses
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('The read pool does not stream.');
  }
}

class ReadPoolDriver implements Driver {
  constructor(readonly pool: SqliteReadPool) {}
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new ReadPoolConnection(this.pool);
  }
  /** A read-only transaction: a snapshot (SqliteReadPool.begin). Writes stay refused. */
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    (connection as ReadPoolConnection).snapshot = await this.pool.begin();
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as ReadPoolConnection);
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as ReadPoolConnection);
  }
  async #end(connection: ReadPoolConnection): Promise<void> {
    const snapshot = connection.snapshot;
    connection.snapshot = null;
    await snapshot?.end();
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {
    await this.pool.close();
  }
}

/**
 * A Kysely instance whose statements run on the read pool's worker threads: for reads whose cost
 * grows with the library (searches, statistics). Its transactions are read snapshots
 * (db/snapshot.ts); a write in one fails.
 */
export function readPoolDb(file: string, size?: number): Db {
  const pool = new SqliteReadPool(file, size);
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new ReadPoolDriver(pool),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
  });
}
