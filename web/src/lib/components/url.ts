import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import type { Pathname } from '$app/types';

/**
 * The one URL-state model of the app: a page reads its view state (search, sort, page, filters)
 * from `page.url` and writes it with `setParams`, so a reload, a shared link or the back button
 * lands on the same view and there is no second copy of the state to drift.
 */

/**
 * `search` (as in `location.search`) with the given parameters replaced; null removes one.
 * Parameters owned by other parts of the page are kept in their order.
 */
export function withParams(search: string, ours: Record<string, string | null>): string {
  const params = new URLSearchParams(search);
  for (const [name, value] of Object.entries(ours)) {
    if (value === null) params.delete(name);
    else params.set(name, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export interface SetParamsOptions {
  /** A new history entry (the back button returns to this view) instead of replacing the current one. */
  push?: boolean;
}

// Writes in the same tick (a filter and its page reset, a search cleared with the filters) are
// merged into one navigation; a write while another is on its way builds on that one, since
// `location` only changes when a navigation lands.
let queued: { patch: Record<string, string | null>; push: boolean; done: Promise<void> } | null =
  null;
let landing: string | null = null;

/** Writes `ours` into the address bar of the current page. */
export function setParams(
  ours: Record<string, string | null>,
  options: SetParamsOptions = {},
): Promise<void> {
  if (queued) {
    Object.assign(queued.patch, ours);
    queued.push ||= !!options.push;
    return queued.done;
  }
  const entry = { patch: { ...ours }, push: !!options.push, done: Promise.resolve() };
  queued = entry;
  entry.done = Promise.resolve().then(async () => {
    queued = null;
    const search = withParams(landing ?? location.search, entry.patch);
    landing = search;
    try {
      await goto(resolve(`${location.pathname}${search}` as Pathname), {
        keepFocus: true,
        noScroll: true,
        replaceState: !entry.push,
      });
    } catch {
      // The router is not started yet (first render): the state still applies, the URL follows
      // with the next write.
    } finally {
      if (landing === search) landing = null;
    }
  });
  return entry.done;
}
