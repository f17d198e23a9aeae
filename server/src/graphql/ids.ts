import { BadUserInputError, NotFoundError } from '../errors.js';

/** IDs are positive integers on the wire as strings; anything else names nothing. */
export function parseId(id: string | number, field = 'id'): number {
  const n = typeof id === 'number' ? id : /^[1-9]\d{0,15}$/.test(id) ? Number(id) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0) throw BadUserInputError.field(field, 'is not a valid id');
  return n;
}

/** An optional id argument: null when not given, else parsed as by parseId, named `field`. */
export const parseOptionalId = (id: string | number | null | undefined, field: string) =>
  id == null ? null : parseId(id, field);

/** Like parseId, but a malformed id is simply "not found" (lookups by id). */
export function parseIdOrNotFound(id: string | number): number {
  try {
    return parseId(id);
  } catch {
    throw new NotFoundError();
  }
}
