import { uploadFile, type UploadedFile, type UploadRequest } from './graphql/upload';
import { toast } from './toast.svelte';

export type UploadStatus = 'queued' | 'uploading' | 'finishing' | 'done' | 'error' | 'cancelled';

export interface UploadItem {
  id: number;
  file: File;
  tags: string[] | undefined;
  status: UploadStatus;
  loaded: number;
  total: number;
  /** Bytes per second over the last few seconds. */
  speed: number;
  error?: string;
  result?: UploadedFile;
}

/** At most this many uploads run at once; the rest wait their turn. */
const CONCURRENCY = 2;
const SPEED_WINDOW_MS = 3000;

let nextId = 1;
// Outcomes since the queue was last idle, for one summary toast per batch.
let batchDone = 0;
let batchFailed = 0;
// Plain records, not reactive state: XHRs and speed samples are bookkeeping only.
const requests: Record<number, UploadRequest> = {};
const samples: Record<number, { t: number; loaded: number }[]> = {};

class Uploads {
  /** Files picked or dropped, waiting in the upload dialog. */
  staged = $state<File[]>([]);
  dialogOpen = $state(false);
  items = $state<UploadItem[]>([]);
  /** Grows by one each time an upload finishes: lists watch it to refresh. */
  finishedCount = $state(0);

  get cancelled(): number {
    return this.items.filter((i) => i.status === 'cancelled').length;
  }

  get failed(): number {
    return this.items.filter((i) => i.status === 'error').length;
  }

  get active(): number {
    return this.items.filter(
      (i) => i.status === 'queued' || i.status === 'uploading' || i.status === 'finishing',
    ).length;
  }

  /** Adds files to the dialog and opens it. */
  stage(files: Iterable<File>): void {
    const list = [...files];
    if (list.length === 0) return;
    this.staged.push(...list);
    this.dialogOpen = true;
  }

  unstage(index: number): void {
    this.staged.splice(index, 1);
  }

  /** Starts the staged files with the given tags (undefined: the server picks the type tag). */
  startStaged(tags: string[] | undefined): void {
    const files = this.staged.splice(0);
    for (const file of files) {
      this.items.push({
        id: nextId++,
        file,
        tags,
        status: 'queued',
        loaded: 0,
        total: file.size,
        speed: 0,
      });
    }
    this.dialogOpen = false;
    this.#pump();
  }

  cancel(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (!item) return;
    if (item.status === 'queued') {
      item.status = 'cancelled';
      item.error = 'Cancelled.';
    } else {
      requests[id]?.abort();
    }
  }

  retry(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (!item || (item.status !== 'error' && item.status !== 'cancelled')) return;
    Object.assign(item, { status: 'queued', loaded: 0, speed: 0, error: undefined });
    this.#pump();
  }

  dismiss(id: number): void {
    const index = this.items.findIndex((i) => i.id === id);
    if (index >= 0 && !['queued', 'uploading', 'finishing'].includes(this.items[index]!.status)) {
      this.items.splice(index, 1);
    }
  }

  clearFinished(): void {
    this.items = this.items.filter((i) => ['queued', 'uploading', 'finishing'].includes(i.status));
  }

  #pump(): void {
    const running = this.items.filter((i) => i.status === 'uploading' || i.status === 'finishing');
    let free = CONCURRENCY - running.length;
    for (const item of this.items) {
      if (free <= 0) break;
      if (item.status !== 'queued') continue;
      free--;
      void this.#run(item.id);
    }
  }

  async #run(id: number): Promise<void> {
    const item = this.items.find((i) => i.id === id);
    if (!item) return;
    item.status = 'uploading';
    samples[id] = [{ t: performance.now(), loaded: 0 }];
    const request = uploadFile(item.file, item.tags ? { tags: item.tags } : {}, (sent, size) => {
      const live = this.items.find((i) => i.id === id);
      if (!live) return;
      // The request carries the file plus the GraphQL envelope: report the file's own bytes, so
      // a 205 B file never reads "1.1 KB".
      const loaded = Math.min(live.file.size, Math.round((sent / size) * live.file.size));
      live.loaded = loaded;
      live.total = live.file.size;
      const now = performance.now();
      const window = samples[id] ?? [];
      window.push({ t: now, loaded });
      while (window.length > 2 && now - window[0]!.t > SPEED_WINDOW_MS) window.shift();
      const first = window[0]!;
      const seconds = (now - first.t) / 1000;
      if (seconds > 0.05) live.speed = (loaded - first.loaded) / seconds;
      // All bytes sent: the server is storing and hashing the file.
      if (sent >= size) live.status = 'finishing';
    });
    requests[id] = request;
    const outcome = await request.done;
    delete requests[id];
    delete samples[id];
    const live = this.items.find((i) => i.id === id);
    if (live) {
      if (outcome.ok) {
        live.status = 'done';
        live.loaded = live.total;
        live.result = outcome.file;
      } else {
        live.status = outcome.error.code === 'ABORTED' ? 'cancelled' : 'error';
        live.error = outcome.error.message;
      }
      live.speed = 0;
    }
    if (outcome.ok) {
      this.finishedCount++;
      batchDone++;
    } else if (outcome.error.code !== 'ABORTED') {
      batchFailed++;
    }
    this.#pump();
    if (this.active === 0) {
      this.#summarise();
      // All went well: the toast says so and the tray folds away; failures and cancellations
      // stay listed until dismissed or retried.
      if (this.items.every((i) => i.status === 'done')) this.items = [];
    }
  }

  #summarise(): void {
    const done = batchDone;
    const failed = batchFailed;
    batchDone = 0;
    batchFailed = 0;
    if (failed > 0)
      toast.error(
        `${failed} upload${failed === 1 ? '' : 's'} failed. See the upload list for details.`,
      );
    else if (done > 0) toast.success(`${done} file${done === 1 ? '' : 's'} uploaded.`);
  }
}

export const uploads = new Uploads();
