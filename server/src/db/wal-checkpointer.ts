import { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';

// In WAL mode SQLite appends every commit to the `-wal` log and, by default, the commit that
// takes the log past 1,000 frames also copies the log back into the database file and syncs it:
// a checkpoint, run by the writer, on the main thread, inside that request. Moving 1,000 files to
// the trash writes ~1,700 frames, and the checkpoint its commit ran took 25–35 ms of the event
// loop on top of a 13 ms commit. Here a worker thread with a connection of its own checkpoints
// instead, as soon as the log reaches the same 1,000 frames; the writer's own checkpoint stays
// as a backstop at 4× that, for a log the worker cannot keep up with, and comes back at the
// default should the worker die.

/** SQLite's own threshold (`wal_autocheckpoint`), in frames (pages written to the log). */
export const CHECKPOINT_FRAMES = 1000;
const BACKSTOP_FRAMES = 4 * CHECKPOINT_FRAMES;

export interface WalCheckpointer {
  /** Checkpoints the worker has run. */
  readonly checkpoints: number;
  /** Stops the worker and closes its connection; the writer checkpoints on its own again. */
  close(): Promise<void>;
}

/** Starts checkpointing `file` off the main thread; `writer` is the main connection. */
export function startWalCheckpointer(
  file: string,
  writer: SQLite.Database,
  options: {
    intervalMs?: number;
    frames?: number;
    /** Told when the worker stops on its own (it failed); the writer checkpoints again. */
    onStop?: (error: Error) => void;
  } = {},
): WalCheckpointer {
  writer.pragma(`wal_autocheckpoint = ${BACKSTOP_FRAMES}`);
  const worker = new Worker(new URL('./sqlite-checkpoint-worker.cjs', import.meta.url), {
    workerData: {
      file,
      intervalMs: options.intervalMs ?? 50,
      frames: options.frames ?? CHECKPOINT_FRAMES,
    },
  });
  // Commands that exit when their work is done (migrate, seed) must not wait for it.
  worker.unref();
  let checkpoints = 0;
  let closing = false;
  worker.on('message', () => checkpoints++);
  let failure: Error | null = null;
  // An error ends the worker; its exit then gives the writer its checkpoints back.
  worker.on('error', (error) => (failure = error));
  const exited = new Promise<void>((resolve) => {
    worker.once('exit', (code) => {
      if (!closing) {
        if (writer.open) writer.pragma(`wal_autocheckpoint = ${CHECKPOINT_FRAMES}`);
        options.onStop?.(failure ?? new Error(`the checkpoint worker exited with code ${code}`));
      }
      resolve();
    });
  });
  return {
    get checkpoints() {
      return checkpoints;
    },
    async close() {
      closing = true;
      // Unreferenced, the worker would not keep the process alive until it has closed.
      worker.ref();
      worker.postMessage('close');
      await exited;
      if (writer.open) writer.pragma(`wal_autocheckpoint = ${CHECKPOINT_FRAMES}`);
    },
  };
}
