import { toast } from './toast.svelte';
import { allTags } from './components/TagInput.svelte';
import { folderTags, type Picked } from './uploads/folders';
import { forgetPending, readPending, rememberPending, type PendingUpload } from './uploads/pending';
import { startTus, storedBytes, terminate, type TusUpload } from './uploads/tus';

/**
 * The one upload queue of the web app: the workspace's upload dialog, the drop zone and admin's
 * Add files dialog all hand their files here, and the upload tray shows them. Every file goes
 * through `/uploads` (tus), a few at a time.
 */

export type UploadStatus =
  | 'queued'
  | 'uploading'
  | 'paused'
  | 'finishing'
  | 'done'
  | 'error'
  | 'cancelled'
  /** Remembered from before a page reload: waits for the user to pick its file again. */
  | 'interrupted';

export interface UploadRequest {
  file: File;
  /** The name the file gets; default: the file's own name. */
  name?: string;
  /** undefined: the server gives the type tag. */
  tags?: string[];
  /** Admins only. */
  status?: 'ACTIVE' | 'HIDDEN';
}

export interface UploadItem {
  id: number;
  /** Names the upload in localStorage, to resume it after a reload. */
  key: string;
  /** null for an interrupted upload until its file is picked again. */
  file: File | null;
  /** The original file name. */
  fileName: string;
  /** What the tray shows: the chosen name, else the file name. */
  label: string;
  name: string | undefined;
  tags: string[] | undefined;
  fileStatus: 'ACTIVE' | 'HIDDEN' | undefined;
  lastModified: number;
  type: string;
  status: UploadStatus;
  /** The FILE's bytes stored or on their way (never the requests' bytes). */
  loaded: number;
  total: number;
  /** Bytes per second over the last few seconds. */
  speed: number;
  /** `/uploads/<id>` once the server created the upload. */
  url?: string;
  /** Paused because the browser went offline: goes on by itself when it is back. */
  offline?: boolean;
  error?: string;
  fileId?: string;
  createdAt: number;
}

/** At most this many uploads run at once; the rest wait their turn. */
const CONCURRENCY = 3;
const SPEED_WINDOW_MS = 3000;
const RUNNING: readonly UploadStatus[] = ['queued', 'uploading', 'finishing'];

let nextId = 1;
// Outcomes since the queue was last idle, for one summary toast per batch.
let batchDone = 0;
let batchFailed = 0;
// Plain records, not reactive state: transfers and speed samples are bookkeeping only.
const transfers: Record<number, TusUpload> = {};
const samples: Record<number, { t: number; loaded: number }[]> = {};

function newKey(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

class Uploads {
  /** Files picked or dropped, waiting in the upload dialog. */
  staged = $state<File[]>([]);
  dialogOpen = $state(false);
  items = $state<UploadItem[]>([]);
  /** Grows by one each time an upload finishes: lists watch it to refresh. */
  finishedCount = $state(0);
  /** The signed-in user the remembered uploads belong to. */
  #owner: string | null = null;
  /** Staged files that came from folders: the folders' names (set once, when staged). */
  #folders = new WeakMap<File, string[]>();

  constructor() {
    // A laptop that slept or a Wi-Fi that dropped: uploads wait for the network, then go on.
    if (typeof window !== 'undefined') window.addEventListener('online', () => this.#online());
  }

  get cancelled(): number {
    return this.items.filter((i) => i.status === 'cancelled').length;
  }

  get failed(): number {
    return this.items.filter((i) => i.status === 'error').length;
  }

  get paused(): number {
    return this.items.filter((i) => i.status === 'paused').length;
  }

  get interrupted(): number {
    return this.items.filter((i) => i.status === 'interrupted').length;
  }

  /** Uploads waiting, sending or being stored (paused ones are not). */
  get active(): number {
    return this.items.filter((i) => RUNNING.includes(i.status)).length;
  }

  /** Adds files (picked alone, or from folders) to the dialog and opens it. */
  stage(files: Iterable<File | Picked>): void {
    const list: File[] = [];
    for (const item of files) {
      if (item instanceof File) list.push(item);
      else {
        list.push(item.file);
        if (item.folders.length) this.#folders.set(item.file, item.folders);
      }
    }
    if (list.length === 0) return;
    this.staged.push(...list);
    this.dialogOpen = true;
  }

  /** The folders a staged file came from, outermost first; empty for a file picked alone. */
  foldersOf(file: File): string[] {
    return this.#folders.get(file) ?? [];
  }

  unstage(index: number): void {
    this.staged.splice(index, 1);
  }

  /**
   * Starts the staged files with the given tags, and with `withFolders` each file also gets its
   * folders' names; a file left with no tag at all gets its type tag from the server.
   */
  startStaged(tags: string[] | undefined, withFolders = false): void {
    const files = this.staged.splice(0);
    this.dialogOpen = false;
    this.enqueue(
      files.map((file) => {
        const extra = withFolders ? folderTags(this.foldersOf(file)) : [];
        const all = allTags([...(tags ?? []), ...extra], '');
        return { file, tags: all.length ? all : undefined };
      }),
    );
  }

  /** Queues files with their names, tags and status; they start as slots free up. */
  enqueue(requests: UploadRequest[]): void {
    for (const request of requests) {
      const { file } = request;
      this.items.push({
        id: nextId++,
        key: newKey(),
        file,
        fileName: file.name,
        label: request.name ?? file.name,
        name: request.name,
        tags: request.tags,
        fileStatus: request.status,
        lastModified: file.lastModified,
        type: file.type,
        status: 'queued',
        loaded: 0,
        total: file.size,
        speed: 0,
        createdAt: Date.now(),
      });
    }
    this.#pump();
  }

  /**
   * Shows the uploads `userId` left unfinished (a reload, a closed tab) so they can be continued.
   * Called when the signed-in user is known or changes.
   */
  restore(userId: string | null): void {
    if (userId === this.#owner) return;
    const previous = this.#owner;
    this.#owner = userId;
    if (previous !== null) {
      // Signed out or another account: what runs stops (its owner can continue it after signing
      // in again) and nothing of the previous user's stays on screen.
      for (const id of Object.keys(transfers).map(Number)) {
        transfers[id]?.pause();
        delete transfers[id];
      }
      this.items = [];
      this.staged = [];
      batchDone = 0;
      batchFailed = 0;
    }
    if (!userId) return;
    const known = new Set(this.items.map((i) => i.key));
    for (const p of readPending()) {
      if (p.userId !== userId || known.has(p.key)) continue;
      const id = nextId++;
      this.items.push({
        id,
        key: p.key,
        file: null,
        fileName: p.fileName,
        label: p.name ?? p.fileName,
        name: p.name,
        tags: p.tags,
        fileStatus: p.status,
        lastModified: p.lastModified,
        type: p.type,
        status: 'interrupted',
        loaded: 0,
        total: p.size,
        speed: 0,
        url: p.url,
        createdAt: p.createdAt,
      });
      void this.#probe(id, p.url);
    }
  }

  /** Shows how much the server kept of an interrupted upload; forgets one that is gone. */
  async #probe(id: number, url: string): Promise<void> {
    const stored = await storedBytes(url);
    const item = this.#find(id);
    if (!item || item.status !== 'interrupted' || stored === undefined) return;
    if (stored === null) {
      forgetPending(item.key);
      this.items = this.items.filter((i) => i.id !== id);
    } else {
      item.loaded = stored;
    }
  }

  /**
   * Matches files picked again to interrupted uploads (same name and size, the same modification
   * time first) and continues them from where the server stopped. Returns the files that matched
   * none.
   */
  resumeWith(files: Iterable<File>): File[] {
    const unmatched: File[] = [];
    for (const file of files) {
      const waiting = this.items.filter(
        (i) => i.status === 'interrupted' && i.fileName === file.name && i.total === file.size,
      );
      const item = waiting.find((i) => i.lastModified === file.lastModified) ?? waiting[0];
      if (!item) {
        unmatched.push(file);
        continue;
      }
      item.file = file;
      item.status = 'queued';
    }
    this.#pump();
    return unmatched;
  }

  pause(id: number): void {
    const item = this.#find(id);
    if (!item || item.status !== 'uploading') return;
    transfers[id]?.pause();
    delete transfers[id];
    item.status = 'paused';
    item.speed = 0;
    this.#pump();
  }

  resume(id: number): void {
    const item = this.#find(id);
    if (!item || item.status !== 'paused') return;
    item.status = 'queued';
    item.offline = false;
    this.#pump();
  }

  #online(): void {
    for (const item of this.items) {
      if (item.status === 'paused' && item.offline) {
        item.status = 'queued';
        item.offline = false;
      }
    }
    this.#pump();
  }

  /**
   * Stops the upload and removes what the server stored of it. Not once every byte is sent: the
   * server is then committing the file, and the file would stay while the tray said cancelled.
   */
  cancel(id: number): void {
    const item = this.#find(id);
    if (!item || !['queued', 'uploading', 'paused'].includes(item.status)) return;
    transfers[id]?.pause();
    delete transfers[id];
    item.status = 'cancelled';
    item.error = 'Cancelled.';
    item.speed = 0;
    this.#discardOnServer(item);
    this.#settle();
  }

  retry(id: number): void {
    const item = this.#find(id);
    if (!item || (item.status !== 'error' && item.status !== 'cancelled') || !item.file) return;
    // A cancelled upload is gone from the server: start afresh. After an error, the server may
    // still hold what was sent: continue from there (or start afresh if it does not).
    if (item.status === 'cancelled') {
      item.url = undefined;
      item.key = newKey();
      item.loaded = 0;
    }
    Object.assign(item, { status: 'queued', speed: 0, error: undefined });
    this.#pump();
  }

  /** Forgets a finished, failed or interrupted item; an unfinished one is ended on the server. */
  dismiss(id: number): void {
    const index = this.items.findIndex((i) => i.id === id);
    const item = this.items[index];
    if (!item || RUNNING.includes(item.status) || item.status === 'paused') return;
    if (item.status === 'error' || item.status === 'interrupted') this.#discardOnServer(item);
    this.items.splice(index, 1);
  }

  /** Ends every interrupted upload on the server ("Discard"). */
  discardInterrupted(): void {
    for (const item of this.items.filter((i) => i.status === 'interrupted')) {
      this.#discardOnServer(item);
    }
    this.items = this.items.filter((i) => i.status !== 'interrupted');
  }

  clearFinished(): void {
    for (const item of this.items.filter((i) => i.status === 'error')) {
      this.#discardOnServer(item);
    }
    this.items = this.items.filter(
      (i) => RUNNING.includes(i.status) || i.status === 'paused' || i.status === 'interrupted',
    );
  }

  #find(id: number): UploadItem | undefined {
    return this.items.find((i) => i.id === id);
  }

  #discardOnServer(item: UploadItem): void {
    forgetPending(item.key);
    if (item.url) void terminate(item.url);
  }

  #remember(item: UploadItem): void {
    if (!this.#owner || !item.url) return;
    const entry: PendingUpload = {
      key: item.key,
      userId: this.#owner,
      url: item.url,
      fileName: item.fileName,
      size: item.total,
      lastModified: item.lastModified,
      type: item.type,
      createdAt: item.createdAt,
      ...(item.name !== undefined ? { name: item.name } : {}),
      ...(item.tags !== undefined ? { tags: item.tags } : {}),
      ...(item.fileStatus !== undefined ? { status: item.fileStatus } : {}),
    };
    rememberPending(entry);
  }

  #pump(): void {
    let free =
      CONCURRENCY -
      this.items.filter((i) => i.status === 'uploading' || i.status === 'finishing').length;
    for (const item of this.items) {
      if (free <= 0) break;
      if (item.status !== 'queued' || !item.file) continue;
      free--;
      item.status = 'uploading';
      void this.#run(item.id, item.file);
    }
  }

  async #run(id: number, file: File): Promise<void> {
    const item = this.#find(id);
    if (!item) return;
    samples[id] = [{ t: performance.now(), loaded: item.loaded }];
    // Callbacks of a transfer that was paused or cancelled meanwhile must not touch the item.
    const current = () => {
      const live = this.#find(id);
      return live && transfers[id] === transfer && live.status !== 'cancelled' ? live : null;
    };
    // Registered before any callback can run (tus-js-client answers asynchronously); pausing
    // waits for the transfer to exist.
    const transfer: TusUpload = { pause: () => void started.then((t) => t.pause()) };
    transfers[id] = transfer;
    const started = startTus(
      file,
      {
        filename: item.fileName,
        ...(item.name !== undefined ? { name: item.name } : {}),
        ...(item.tags !== undefined ? { tags: item.tags } : {}),
        ...(item.fileStatus !== undefined ? { status: item.fileStatus } : {}),
      },
      item.url,
      {
        onUrl: (url) => {
          const live = current();
          if (!live) return;
          live.url = url;
          this.#remember(live);
        },
        onProgress: (loaded, total) => {
          const live = current();
          if (!live) return;
          live.loaded = loaded;
          live.total = total;
          const now = performance.now();
          const window = samples[id] ?? [];
          window.push({ t: now, loaded });
          while (window.length > 2 && now - window[0]!.t > SPEED_WINDOW_MS) window.shift();
          const first = window[0]!;
          const seconds = (now - first.t) / 1000;
          if (seconds > 0.05) live.speed = Math.max(0, (loaded - first.loaded) / seconds);
          // All bytes sent: the server is storing and committing the file.
          if (loaded >= total) live.status = 'finishing';
        },
        onSuccess: (fileId) => {
          const live = current();
          if (!live) return;
          delete transfers[id];
          delete samples[id];
          forgetPending(live.key);
          live.status = 'done';
          live.loaded = live.total;
          live.speed = 0;
          if (fileId) live.fileId = fileId;
          this.finishedCount++;
          batchDone++;
          this.#settle();
        },
        onError: (error) => {
          const live = current();
          if (!live) return;
          delete transfers[id];
          delete samples[id];
          live.speed = 0;
          if (error.code === 'NETWORK' && !navigator.onLine) {
            live.status = 'paused';
            live.offline = true;
            this.#settle();
            return;
          }
          live.status = 'error';
          live.error = error.message;
          // Refused outright (too large, not allowed, bad name): nothing to resume.
          if (error.code !== 'NETWORK' && error.code !== 'INTERNAL_SERVER_ERROR') {
            this.#discardOnServer(live);
            live.url = undefined;
          }
          batchFailed++;
          this.#settle();
        },
      },
    );
    await started;
  }

  /** After an upload ended: start the next ones, and sum up once nothing runs. */
  #settle(): void {
    this.#pump();
    if (this.active > 0) return;
    this.#summarise();
    // All went well: the toast says so and the tray folds away; failures, cancellations, paused
    // and interrupted uploads stay listed.
    if (this.items.every((i) => i.status === 'done')) this.items = [];
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
