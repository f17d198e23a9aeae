/**
 * Unfinished uploads remembered across page reloads (localStorage): where each one lives on the
 * server and what the user asked for (name, tags, status). A browser cannot open a file again by
 * itself, so after a reload the user picks the same file and the upload goes on from the
 * server's offset; name, size and modification time tell which remembered upload a file is.
 */

const STORAGE_KEY = 'cabinet.unfinishedUploads.v1';

export interface PendingUpload {
  key: string;
  /** Whose upload it is: another account in the same browser never sees it. */
  userId: string;
  /** `/uploads/<id>` on this server. */
  url: string;
  fileName: string;
  size: number;
  lastModified: number;
  type: string;
  name?: string;
  tags?: string[];
  status?: 'ACTIVE' | 'HIDDEN';
  createdAt: number;
}

/** The server forgets unfinished uploads after UPLOAD_EXPIRY_HOURS (24 by default). */
const FORGET_AFTER_MS = 7 * 24 * 3_600_000;

function isPending(value: unknown): value is PendingUpload {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.key === 'string' &&
    typeof v.userId === 'string' &&
    typeof v.url === 'string' &&
    typeof v.fileName === 'string' &&
    typeof v.size === 'number' &&
    typeof v.lastModified === 'number' &&
    typeof v.createdAt === 'number'
  );
}

export function readPending(): PendingUpload[] {
  try {
    const raw = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as unknown;
    if (!Array.isArray(raw)) return [];
    const now = Date.now();
    return raw.filter(isPending).filter((p) => now - p.createdAt < FORGET_AFTER_MS);
  } catch {
    return []; // storage blocked or garbled: nothing to resume
  }
}

function write(list: PendingUpload[]): void {
  try {
    if (list.length === 0) localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, JSON.stringify(list));
  } catch {
    // Private mode or a full quota: the upload still runs, it just cannot resume after a reload.
  }
}

export function rememberPending(entry: PendingUpload): void {
  write([...readPending().filter((p) => p.key !== entry.key), entry]);
}

export function forgetPending(key: string): void {
  const list = readPending();
  if (list.some((p) => p.key === key)) write(list.filter((p) => p.key !== key));
}
