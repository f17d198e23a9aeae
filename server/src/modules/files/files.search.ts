import type { Executor, FileRow, FileStatus } from '../../db/database.js';

// The `files` listing: the one place that turns listing arguments into SQL. Search (query,
// tagIds, tagMatch) replaces this module as a whole; the GraphQL field and the FileConnection
// only call `listFiles` and `countFiles`.

export type FileOrder = 'NEWEST' | 'OLDEST' | 'NAME' | 'LARGEST' | 'MOST_DOWNLOADED';

export interface FileListArgs {
  status?: FileStatus | null;
  uploadedBy?: number | null;
  orderBy?: FileOrder | null;
}

export interface FileListViewer {
  /** Admins see HIDDEN files; everybody else only ACTIVE ones, whatever `status` asks. */
  admin: boolean;
}

function filtered(db: Executor, viewer: FileListViewer, args: FileListArgs) {
  let q = db.selectFrom('files');
  if (!viewer.admin) q = q.where('files.status', '=', 'ACTIVE');
  if (args.status) q = q.where('files.status', '=', args.status);
  if (args.uploadedBy != null) q = q.where('files.uploaded_by', '=', args.uploadedBy);
  return q;
}

/** One page of the listing; every order ends with the id so pages never overlap. */
export function listFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
  page: { limit: number; offset: number },
): Promise<FileRow[]> {
  let q = filtered(db, viewer, args).selectAll('files');
  switch (args.orderBy ?? 'NEWEST') {
    case 'NEWEST':
      q = q.orderBy('files.created_at', 'desc').orderBy('files.id', 'desc');
      break;
    case 'OLDEST':
      q = q.orderBy('files.created_at', 'asc').orderBy('files.id', 'asc');
      break;
    case 'NAME':
      q = q.orderBy('files.name', 'asc').orderBy('files.id', 'asc');
      break;
    case 'LARGEST':
      q = q.orderBy('files.size', 'desc').orderBy('files.id', 'desc');
      break;
    case 'MOST_DOWNLOADED':
      q = q.orderBy('files.download_count', 'desc').orderBy('files.id', 'desc');
      break;
  }
  return q.limit(page.limit).offset(page.offset).execute();
}

/** How many files the whole filtered listing holds. */
export async function countFiles(
  db: Executor,
  viewer: FileListViewer,
  args: FileListArgs,
): Promise<number> {
  const row = await filtered(db, viewer, args)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
