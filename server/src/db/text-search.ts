import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';

/** Escapes LIKE wildcards so `%` and `_` in a query match themselves. */
export const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Case-insensitive substring match, the same on both dialects: PostgreSQL's lower() folds every
 * script, and the SQLite connection replaces lower() with a Unicode-aware one (connection.ts).
 */
export function containsText(column: Expression<string>, query: string): RawBuilder<SqlBool> {
  const pattern = `%${escapeLike(query.toLowerCase())}%`;
  return sql<SqlBool>`lower(${column}) like ${pattern} escape '\\'`;
}
