/** The point with the most downloads (the first of equals), or null when there were none. */
export function peakOf<P extends { count: number }>(points: readonly P[]): P | null {
  return points.reduce<P | null>(
    (best, p) => (p.count > 0 && (!best || p.count > best.count) ? p : best),
    null,
  );
}
