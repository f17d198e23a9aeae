/** The orders the server offers for file lists, by a file table's sort key and direction. */
export type FileSortKey = 'added' | 'name' | 'size' | 'downloads';

export const FILE_ORDER = {
  'added:desc': 'NEWEST',
  'added:asc': 'OLDEST',
  'name:asc': 'NAME',
  'size:desc': 'LARGEST',
  'downloads:desc': 'MOST_DOWNLOADED',
} as const;

export type FileSortValue = keyof typeof FILE_ORDER;

export const FILE_SORTS = Object.keys(FILE_ORDER) as FileSortValue[];

/** The server's order for a table sort; the default for anything it does not offer. */
export function fileOrder(sort: { key: FileSortKey; dir: 'asc' | 'desc' }) {
  return FILE_ORDER[`${sort.key}:${sort.dir}` as FileSortValue] ?? 'NEWEST';
}

export const FILE_ORDER_LABELS: Record<FileSortValue, string> = {
  'added:desc': 'Newest first',
  'added:asc': 'Oldest first',
  'name:asc': 'Name (A–Z)',
  'size:desc': 'Largest first',
  'downloads:desc': 'Most downloaded',
};
