import type { AnyVariables, DocumentInput, RequestPolicy } from '@urql/core';
import { client } from './client';
import { toAppError, type AppError } from './errors';

export interface LiveQuery<Data> {
  /** The latest data; kept while new variables load, so lists do not blink. */
  readonly data: Data | undefined;
  readonly error: AppError | undefined;
  /** True while a request for the current variables is under way. */
  readonly fetching: boolean;
  /** True once any answer (data or error) has arrived. */
  readonly loaded: boolean;
  /** Asks the network again for the current variables. */
  refetch(): Promise<void>;
}

/**
 * Runs an urql query inside a component and re-runs it when the variables read by `variables`
 * change (a rune-friendly replacement for `queryStore`). Return `null` from `variables` to pause.
 * Must be called during component initialisation.
 */
export function liveQuery<Data, Variables extends AnyVariables>(
  document: DocumentInput<Data, Variables>,
  variables: () => Variables | null,
  options: { requestPolicy?: RequestPolicy } = {},
): LiveQuery<Data> {
  let data = $state.raw<Data | undefined>(undefined);
  let error = $state.raw<AppError | undefined>(undefined);
  let fetching = $state(true);
  let loaded = $state(false);
  let current: Variables | null = null;
  // urql drops a request for a query and variables while one for the same is under way, so a
  // refetch asked meanwhile (an upload finished while the page's first list was loading) would be
  // lost, and the answer under way began before the change. Such a refetch waits for that answer
  // and then asks the network.
  let underWay = false;
  let waiting: (() => void)[] = [];
  const fetchNow = async (vars: Variables) => {
    underWay = true;
    try {
      await client.query(document, vars, { requestPolicy: 'network-only' }).toPromise();
    } finally {
      underWay = false;
      settle();
    }
  };
  function settle() {
    if (underWay || fetching || waiting.length === 0 || current === null) return;
    const waiters = waiting;
    waiting = [];
    void fetchNow(current).then(() => waiters.forEach((done) => done()));
  }

  $effect(() => {
    const vars = variables();
    current = vars;
    if (vars === null) return;
    fetching = true;
    const subscription = client
      .query(document, vars, { requestPolicy: options.requestPolicy ?? 'cache-and-network' })
      .subscribe((result) => {
        if (result.error) {
          error = toAppError(result.error);
        } else {
          error = undefined;
        }
        if (result.data !== undefined || result.error) data = result.data;
        loaded = true;
        fetching = !!result.stale;
        settle();
      });
    return () => subscription.unsubscribe();
  });

  return {
    get data() {
      return data;
    },
    get error() {
      return error;
    },
    get fetching() {
      return fetching;
    },
    get loaded() {
      return loaded;
    },
    async refetch() {
      if (current === null) return;
      if (!underWay && !fetching) return fetchNow(current);
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
      });
    },
  };
}
