/** Page sizes every table offers, and the one it starts with. */
export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 25;

/** A page size from the address bar; anything not offered is the default. */
export function parsePageSize(value: string | null): number {
  const n = Number(value);
  return (PAGE_SIZES as readonly number[]).includes(n) ? n : DEFAULT_PAGE_SIZE;
}

/** A 1-based page number from the address bar; anything else is page 1. */
export function parsePage(value: string | null): number {
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 1 ? n : 1;
}

/** Page numbers to show, with null for a gap: 1 … 4 5 [6] 7 8 … 20. */
export function pageWindow(page: number, pages: number): (number | null)[] {
  if (pages <= 7) return Array.from({ length: pages }, (_, i) => i + 1);
  const wanted = [page - 1, page, page + 1];
  if (page <= 3) wanted.push(2, 3, 4);
  if (page >= pages - 2) wanted.push(pages - 3, pages - 2, pages - 1);
  const middle = [...new Set(wanted)].filter((p) => p > 1 && p < pages).sort((a, b) => a - b);
  const out: (number | null)[] = [1];
  let last = 1;
  for (const p of middle) {
    if (p > last + 1) out.push(null);
    out.push(p);
    last = p;
  }
  if (pages > last + 1) out.push(null);
  out.push(pages);
  return out;
}
