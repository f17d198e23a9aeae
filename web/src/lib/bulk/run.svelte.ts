import type { NamedFailure } from './BulkReport.svelte';
import { toast } from '$lib/toast.svelte';
import { runInBatches, type BulkProgress } from './batches';

/** A file a bulk action acts on, named so a failure can say which. */
export interface NamedFile {
  id: string;
  name: string;
}

/**
 * The bulk actions of one bar (workspace, admin files, trash): whether one is under way, its
 * progress, and the files the last one could not act on, by name. BulkReport shows the last two.
 */
export class BulkRun {
  busy = $state(false);
  progress = $state<BulkProgress | null>(null);
  failures = $state<NamedFailure[]>([]);

  /** Runs `call` over `files` in batches; answers the ids acted on. */
  async run(files: NamedFile[], call: Parameters<typeof runInBatches>[1]): Promise<string[]> {
    const names: Record<string, string> = Object.fromEntries(files.map((f) => [f.id, f.name]));
    this.busy = true;
    this.failures = [];
    try {
      const outcome = await runInBatches(
        files.map((f) => f.id),
        call,
        (p) => (this.progress = p),
      );
      this.failures = outcome.failures.map((f) => ({
        names: f.ids.map((id) => names[id] ?? `#${id}`),
        message: f.message,
      }));
      return outcome.done;
    } catch (err) {
      // A request that threw (the network went away) rather than answering with an error.
      toast.error(err instanceof Error ? err.message : String(err));
      return [];
    } finally {
      this.busy = false;
      this.progress = null;
    }
  }

  dismiss(): void {
    this.failures = [];
  }
}

/** The id and name of each row, what `run` takes. */
export const named = (rows: readonly NamedFile[]): NamedFile[] =>
  rows.map((f) => ({ id: f.id, name: f.name }));
