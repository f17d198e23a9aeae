import type { AnyVariables, DocumentInput, RequestPolicy } from '@urql/core';
import { liveQuery, type LiveQuery } from '$lib/graphql/query.svelte';
import { TableState, type SortDir, type TableOptions } from './table.svelte';

/** The part of a paged GraphQL connection a table shows. */
interface Connection<T> {
  edges: readonly { node: T }[];
  totalCount: number;
}

/**
 * What a DataTable lists: the table's address-bar state, the page of rows its query answered, the
 * total, and the query itself (loading, error, Try again). One object, because every table page
 * wires these four together the same way.
 */
export interface TableList<T, K extends string> {
  readonly table: TableState<K>;
  readonly rows: T[] | undefined;
  readonly total: number | undefined;
  readonly query: Pick<LiveQuery<unknown>, 'fetching' | 'error' | 'refetch'>;
}

/**
 * The list of `table` that `query` answers, its connection picked out of the data by `connection`.
 * Must be called during component initialisation (it derives).
 */
export function tableList<D, T, K extends string>(
  table: TableState<K>,
  query: LiveQuery<D>,
  connection: (data: D) => Connection<T> | undefined,
): TableList<T, K> {
  const found = $derived(query.data === undefined ? undefined : connection(query.data));
  const rows = $derived(found?.edges.map((e) => e.node));
  return {
    table,
    query,
    get rows() {
      return rows;
    },
    get total() {
      return found?.totalCount;
    },
  };
}

/** The key of a `key:dir` sort. */
type SortKeyOf<S> = S extends `${infer K}:${SortDir}` ? K : never;

/**
 * The list of a searched, sorted and paged table whose query asks just that: `query`, `first`,
 * `offset`, and `orderBy`, the server's order for the table's sort. `orders` names that order for
 * each sort the table offers (`key:dir`); the first is the default. Must be called during
 * component initialisation.
 *
 *   const list = orderedList(AdminTagsQuery, (d) => d.tags, { 'name:asc': 'NAME', … });
 */
export function orderedList<D, T, const O extends Record<`${string}:${SortDir}`, string>>(
  document: DocumentInput<
    D,
    { query: string | null; orderBy: O[keyof O]; first: number; offset: number }
  >,
  connection: (data: D) => Connection<T> | undefined,
  orders: O,
): TableList<T, SortKeyOf<keyof O>> {
  type K = SortKeyOf<keyof O>;
  const sorts = Object.keys(orders) as `${K}:${SortDir}`[];
  const first = sorts[0]!;
  const [key, dir] = first.split(':') as [K, SortDir];
  const table = new TableState<K>({ defaultSort: { key, dir }, sorts });
  const query = liveQuery(document, () => ({
    query: table.query || null,
    // The table's sort is always one it offers (the URL's, else the default).
    orderBy: orders[`${table.sort.key}:${table.sort.dir}` as keyof O],
    first: table.pageSize,
    offset: table.offset,
  }));
  return tableList(table, query, connection);
}

/** The variables by which a query asks for one page of a table. */
interface Paging {
  first?: number | null;
  offset?: number | null;
}

/**
 * The list of a paged table in the one order its query knows, newest first by `key` (the trash,
 * the downloads, the audit log): `first` and `offset` come from the table, `filters` adds what else
 * the query asks. Must be called during component initialisation.
 *
 *   const list = newestFirstList('deleted', TrashQuery, (d) => d.trash);
 */
export function newestFirstList<D, V extends AnyVariables & Paging, T, K extends string>(
  key: K,
  document: DocumentInput<D, V>,
  connection: (data: D) => Connection<T> | undefined,
  options: {
    filters?: () => Omit<V, keyof Paging>;
    requestPolicy?: RequestPolicy;
    history?: TableOptions<K>['history'];
  } = {},
): TableList<T, K> {
  const { filters, requestPolicy, history } = options;
  const table = new TableState<K>({
    defaultSort: { key, dir: 'desc' },
    sorts: [`${key}:desc`],
    history,
  });
  const query = liveQuery(
    document,
    // The filters with the page are all of V; TypeScript cannot follow an Omit back to its type.
    () => ({ ...filters?.(), first: table.pageSize, offset: table.offset }) as V,
    { requestPolicy },
  );
  return tableList(table, query, connection);
}
