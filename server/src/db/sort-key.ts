// Names sorted as people read them, the same on SQLite and PostgreSQL, from a plain index: each
// name is stored beside a key that compares correctly byte by byte (SQLite's BINARY collation,
// PostgreSQL's "C"). The key folds case and accents ("Board" and "big" by their letters, "é" as
// "e"), and pads every run of digits so numbers compare by value ("file 2" before "file 10").
// Locale rules beyond that (ß as ss, Swedish å after z) are not attempted: one order for all.

/** Digit runs are padded to this many digits; longer ones keep their length (and sort after). */
const DIGITS = 12;

/** The sort key of a name (files, tags and users order by it, then by id). */
export function sortKey(name: string): string {
  return (
    name
      .normalize('NFKD')
      // Combining marks (accents) go; the letters they sat on stay.
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/\d+/g, (run) => {
        const digits = run.replace(/^0+(?=\d)/, '');
        return digits.length >= DIGITS ? digits : digits.padStart(DIGITS, '0');
      })
  );
}
