// What the benches print with: percentiles and a Markdown table (first column left-aligned,
// the figures right-aligned), so their output pastes into docs/benchmarks.md as it is.

/** The p-th percentile of values sorted ascending (nearest rank). */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  console.log(line(head));
  console.log(
    `| ${widths.map((w, i) => (i ? '-'.repeat(w - 1) + ':' : '-'.repeat(w))).join(' | ')} |`,
  );
  for (const r of rows) console.log(line(r));
}
