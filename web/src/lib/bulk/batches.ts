import type { CombinedError } from '@urql/core';
import { toAppError } from '$lib/graphql/errors';

/** The server's limit of files per bulk request (and per ZIP). */
export const MAX_BULK = 1000;

/** Files one bulk action could not act on, and why. */
export interface BulkFailure {
  ids: string[];
  message: string;
}

export interface BulkOutcome {
  /** Ids acted on. */
  done: string[];
  failures: BulkFailure[];
}

export interface BulkProgress {
  done: number;
  total: number;
}

/** How many times a batch is sent again without the files the server named as at fault. */
const RETRIES = 2;

const FAULT_NAMES: Record<string, string> = {
  NOT_FOUND: 'no longer exist, or are hidden',
  FORBIDDEN: 'are not yours to change',
};

/**
 * Runs a bulk mutation over `ids` in requests of at most MAX_BULK files. Each request is all or
 * nothing on the server; one refused with NOT_FOUND or FORBIDDEN names its files in
 * `extensions.ids` (docs/api.md, "Bulk file actions"), so it is sent again without them and they
 * are reported, each with the reason. Any other failure reports its whole batch. `onprogress`
 * follows the files settled, acted on or not.
 */
export async function runInBatches(
  ids: readonly string[],
  call: (batch: string[]) => PromiseLike<{ error?: CombinedError }>,
  onprogress: (progress: BulkProgress) => void = () => {},
): Promise<BulkOutcome> {
  const outcome: BulkOutcome = { done: [], failures: [] };
  let settled = 0;
  onprogress({ done: 0, total: ids.length });
  for (let start = 0; start < ids.length; start += MAX_BULK) {
    let batch = ids.slice(start, start + MAX_BULK);
    const size = batch.length;
    for (let attempt = 0; batch.length > 0; attempt++) {
      const result = await call(batch);
      if (!result.error) {
        outcome.done.push(...batch);
        break;
      }
      const first = result.error.graphQLErrors[0];
      const code = first?.extensions?.code;
      const named = first?.extensions?.ids;
      const faulty = Array.isArray(named)
        ? named.filter((id): id is string => typeof id === 'string' && batch.includes(id))
        : [];
      if (typeof code !== 'string' || !FAULT_NAMES[code] || !faulty.length || attempt >= RETRIES) {
        outcome.failures.push({ ids: batch, message: toAppError(result.error).message });
        break;
      }
      outcome.failures.push({ ids: faulty, message: `They ${FAULT_NAMES[code]}.` });
      batch = batch.filter((id) => !faulty.includes(id));
    }
    settled += size;
    onprogress({ done: settled, total: ids.length });
  }
  return outcome;
}

/** "1 file", "12 files". */
export const fileCount = (n: number) => (n === 1 ? '1 file' : `${n.toLocaleString('en')} files`);
