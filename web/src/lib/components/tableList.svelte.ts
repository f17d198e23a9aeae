import type { LiveQuery } from '$lib/graphql/query.svelte';
import type { TableState } from './table.svelte';

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
