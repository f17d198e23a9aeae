/** One CSV field, quoted when it holds a separator, quote or line break (RFC 4180). */
function field(value: string | null | undefined): string {
  const text = value ?? '';
  // A leading =, +, - or @ would be run as a formula by spreadsheet programs.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A CSV document: a header row, then one row per record, CRLF line ends. */
export function toCsv(header: string[], rows: (string | null | undefined)[][]): string {
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
