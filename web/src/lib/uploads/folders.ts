import { parseTags, tagLength, TAG_MAX } from '$lib/tags';
import { toast } from '$lib/toast.svelte';

/**
 * Folders dropped or picked for upload: their files, each with the names of the folders it sat in
 * (outermost first), so the upload dialog can show where a file came from and tag it with them.
 */

/** A file to upload and the folders it came from (empty for a file picked on its own). */
export interface Picked {
  file: File;
  folders: string[];
}

/** What one drop or pick of folders gives: the files, and what was left out and why. */
export interface FolderFiles {
  picked: Picked[];
  /** System files skipped (.DS_Store, Thumbs.db, desktop.ini and other dot-files). */
  skipped: number;
  /** True when the folders held more than MAX_FOLDER_FILES files and the rest were left. */
  cut: boolean;
}

/** At most this many files are taken from one drop or pick: a whole disk dropped by mistake stops here. */
export const MAX_FOLDER_FILES = 1000;

const SYSTEM_FILES = new Set(['thumbs.db', 'desktop.ini']);
/** Files an operating system leaves in folders, which nobody means to share. */
const isSystemFile = (name: string) => name.startsWith('.') || SYSTEM_FILES.has(name.toLowerCase());

const pathOf = (p: Picked) => [...p.folders, p.file.name].join('/');
const byPath = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The files in the order of their paths, as a file manager lists them (disks give any order). */
function collect(entries: Picked[]): FolderFiles {
  const kept = entries
    .filter((p) => !isSystemFile(p.file.name))
    .sort((a, b) => byPath.compare(pathOf(a), pathOf(b)));
  return {
    picked: kept.slice(0, MAX_FOLDER_FILES),
    skipped: entries.length - kept.length,
    cut: kept.length > MAX_FOLDER_FILES,
  };
}

/** The files of a folder picker (`webkitdirectory`): each file's folders from its relative path. */
export function pickedFromFolder(files: Iterable<File>): FolderFiles {
  return collect(
    [...files].map((file) => ({
      file,
      folders: (file.webkitRelativePath || file.name).split('/').slice(0, -1),
    })),
  );
}

/**
 * The files of a drop, folders read through to the bottom. `entries` must be taken from the
 * drop's items while the event is dispatched (`webkitGetAsEntry`), which is why they come in as
 * entries; reading them may take longer.
 */
export async function pickedFromEntries(entries: FileSystemEntry[]): Promise<FolderFiles> {
  const found: Picked[] = [];
  let kept = 0;
  // One past the cap is enough to know that files were left.
  const enough = () => kept > MAX_FOLDER_FILES;
  async function walk(entry: FileSystemEntry, folders: string[]): Promise<void> {
    if (enough()) return;
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) =>
        (entry as FileSystemFileEntry).file(resolve, reject),
      );
      found.push({ file, folders });
      if (!isSystemFile(file.name)) kept++;
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      const inside = [...folders, entry.name];
      // A reader gives a folder's entries in batches (Chromium: 100 at a time) until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
          reader.readEntries(resolve, reject),
        );
        if (batch.length === 0 || enough()) break;
        for (const child of batch) await walk(child, inside);
      }
    }
  }
  for (const entry of entries) await walk(entry, []);
  return collect(found);
}

/** At most this many folders, outermost first, tag a file (the server takes 50 tags a file). */
export const MAX_FOLDER_TAGS = 10;

/**
 * The tags a file's folders give: each folder's name as a tag, where it can be one (1 to TAG_MAX
 * characters; a comma, which separates tags, becomes a space), without repeats (parseTags).
 */
export function folderTags(folders: readonly string[]): string[] {
  const names = folders.slice(0, MAX_FOLDER_TAGS).map((f) => f.replace(/[,\s]+/g, ' '));
  return parseTags(names.join(',')).filter((tag) => tagLength(tag) <= TAG_MAX);
}

/**
 * The files of a drop, folders read through. Must be called while the drop is dispatched: the
 * browser empties the drop's items once the event is over.
 */
export function droppedFiles(transfer: DataTransfer): Promise<FolderFiles> {
  const items = [...transfer.items].filter((item) => item.kind === 'file');
  const entries = items.map((item) => item.webkitGetAsEntry?.() ?? null);
  if (!entries.some((entry) => entry?.isDirectory)) {
    const picked = [...transfer.files].map((file) => ({ file, folders: [] }));
    return Promise.resolve({ picked, skipped: 0, cut: false });
  }
  return pickedFromEntries(entries.filter((entry) => entry !== null));
}

/** Tells what a drop or pick of folders left out. */
export function sayLeftOut({ picked, skipped, cut }: FolderFiles): void {
  if (cut) toast.info(`Only the first ${picked.length} files of the folder were added.`);
  if (skipped)
    toast.info(`${skipped} system ${skipped === 1 ? 'file' : 'files'} (like .DS_Store) left out.`);
}
