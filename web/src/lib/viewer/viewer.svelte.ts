import { goto } from '$app/navigation';
import { resolve } from '$app/paths';
import { page } from '$app/state';
import type { Pathname } from '$app/types';
import { withParams } from '$lib/components/url';
import { recall, remember } from '$lib/remembered';

// The file viewer lives in the URL (`?file=<id>` on the page that lists the file): a link to it
// opens the file, and Back closes it. Opening pushes one history entry; moving to the next or
// previous file replaces it, so Back always returns to the list.

export const VIEWER_PARAM = 'file';

/** What the viewer hands each of its previews (PDF, text): the same file, whichever draws it. */
export interface PreviewProps {
  /** The file's preview address (a sandboxed response). */
  url: string;
  name: string;
  mimeType: string;
}

function target(id: string | null): Pathname {
  const search = withParams(page.url.search, { [VIEWER_PARAM]: id });
  return `${page.url.pathname}${search}` as Pathname;
}

/** Opens the viewer on a file of the current page. */
export function openFile(id: string): void {
  void goto(resolve(target(id)), { state: { viewer: true }, keepFocus: true, noScroll: true });
}

/**
 * The attributes of a button that opens a file in the viewer (its name in a table, its card in the
 * gallery), with the whole name on hover.
 */
export function opensFile(file: { id: string; name: string }) {
  return { type: 'button', title: file.name, onclick: () => openFile(file.id) } as const;
}

/** Shows another file in the open viewer (arrow keys). */
export function showFile(id: string): void {
  void goto(resolve(target(id)), {
    replaceState: true,
    state: page.state,
    keepFocus: true,
    noScroll: true,
  });
}

/** Closes the viewer: Back when the viewer was opened here, else the URL without the file. */
export function closeViewer(): void {
  if (page.state.viewer) history.back();
  else void goto(resolve(target(null)), { replaceState: true, keepFocus: true, noScroll: true });
}

/** The file the URL names, or null. */
export function viewedFileId(): string | null {
  const id = page.url.searchParams.get(VIEWER_PARAM);
  return id && /^[1-9]\d{0,15}$/.test(id) ? id : null;
}

const VIEW_KEY = 'cabinet.fileView';
export type FileView = 'table' | 'gallery';

/** Table or gallery, remembered in this browser. */
class ViewChoice {
  #value = $state<FileView>('table');
  constructor() {
    if (recall(VIEW_KEY) === 'gallery') this.#value = 'gallery';
  }
  get value(): FileView {
    return this.#value;
  }
  set value(next: FileView) {
    this.#value = next;
    remember(VIEW_KEY, next);
  }
}

export const fileView = new ViewChoice();
