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
