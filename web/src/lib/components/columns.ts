/** One column of a DataTable. */
export interface Column<K extends string = string> {
  id: string;
  label: string;
  /** Sort key in the table's TableState; without it the column does not sort. */
  sortKey?: K;
  align?: 'start' | 'end';
  /** CSS width, e.g. '120px' or '30%'. */
  width?: string;
  /** Label only for screen readers (action columns). */
  hiddenLabel?: boolean;
  /** On narrow screens the row becomes a card: the primary cell is its title. */
  primary?: boolean;
}
