import type { Executor, FileStatus } from '../../db/database.js';

// The in-memory side of search: sets of file ids and the tags' postings.
//
// Sets of file ids are ascending Int32Arrays (file ids are 32-bit integers on both databases):
// 4 bytes an id, and intersections that run through memory in order instead of probing an index.

export type IdSet = Int32Array;

export const EMPTY: IdSet = new Int32Array(0);

/**
 * The numbers of a comma-separated aggregate (SQLite group_concat, PostgreSQL string_agg; null
 * when it aggregated no rows): one value to parse instead of a row object per id.
 */
export const parseNumberList = (list: string | null | undefined): number[] =>
  JSON.parse(`[${list ?? ''}]`) as number[];

/** Ascending, without duplicates, from ids in any order. */
export function toIdSet(ids: ArrayLike<number>): IdSet {
  const sorted = Int32Array.from(ids).sort();
  let n = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[n++] = sorted[i]!;
  }
  return n === sorted.length ? sorted : sorted.slice(0, n);
}

/** First index in `a[from..]` whose value is ≥ `x`, by galloping then binary search. */
function seek(a: IdSet, x: number, from: number): number {
  let step = 1;
  let hi = from;
  while (hi < a.length && a[hi]! < x) {
    from = hi + 1;
    hi += step;
    step *= 2;
  }
  hi = Math.min(hi, a.length);
  while (from < hi) {
    const mid = (from + hi) >>> 1;
    if (a[mid]! < x) from = mid + 1;
    else hi = mid;
  }
  return from;
}

/**
 * The ids in both sets. Walks the smaller set and gallops through the larger one, so a few
 * thousand ids against a few hundred thousand cost thousands of steps, not hundreds of thousands.
 */
export function intersect(a: IdSet, b: IdSet): IdSet {
  if (a.length > b.length) [a, b] = [b, a];
  const out = new Int32Array(a.length);
  let n = 0;
  let j = 0;
  for (let i = 0; i < a.length && j < b.length; i++) {
    const x = a[i]!;
    j = seek(b, x, j);
    if (b[j] === x) out[n++] = x;
  }
  return out.subarray(0, n);
}

/**
 * A set as one bit per id up to its largest: membership in ~1 ns, so counting how many of each
 * tag's postings fall in a result of 100,000s of files costs one pass over the postings (~12 ms
 * for 2.6 million links in the server) rather than one intersection per tag. 125 KB per million
 * ids.
 */
export class IdBitset {
  readonly #bits: Uint32Array;

  /** From ascending ids, or from the bits of exactly those ids when the caller has them. */
  constructor(ids: IdSet, bits?: Uint32Array) {
    if (bits) {
      this.#bits = bits;
      return;
    }
    const max = ids.length ? ids[ids.length - 1]! : 0;
    this.#bits = new Uint32Array((max >>> 5) + 1);
    for (const id of ids) this.#bits[id >>> 5]! |= 1 << (id & 31);
  }

  has(id: number): boolean {
    const word = id >>> 5;
    return word < this.#bits.length && (this.#bits[word]! & (1 << (id & 31))) !== 0;
  }

  /** How many of `ids` are in the set. */
  countIn(ids: IdSet): number {
    const bits = this.#bits;
    const words = bits.length;
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const word = id >>> 5;
      if (word < words && (bits[word]! & (1 << (id & 31))) !== 0) n++;
    }
    return n;
  }
}

/**
 * Bitsets kept with the sets they were made from, for as long as those live: a search result
 * served from a cache (name-index.ts) or a tag's postings is tested against many times, and
 * building the bits of 500,000 ids each time costs more than the test.
 */
const bitsets = new WeakMap<IdSet, IdBitset>();

/** The bitset of `ids` (made once per set; `bits`, when given, must hold exactly `ids`). */
export function bitsetOf(ids: IdSet, bits?: Uint32Array): IdBitset {
  let b = bitsets.get(ids);
  if (!b) bitsets.set(ids, (b = new IdBitset(ids, bits)));
  return b;
}

/** The ids in every set (none for no sets is never asked for: callers pass at least one). */
export function intersectAll(sets: readonly IdSet[]): IdSet {
  const bySize = [...sets].sort((x, y) => x.length - y.length);
  let result = bySize[0] ?? EMPTY;
  for (const s of bySize.slice(1)) {
    if (!result.length) break;
    result = intersect(result, s);
  }
  return result;
}

function merge(a: IdSet, b: IdSet): IdSet {
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) out[n++] = a[i++]!;
    else if (y < x) out[n++] = b[j++]!;
    else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  return out.subarray(0, n);
}

/** The ids in any of the sets: pairwise merges, smallest first, so n ids of k sets cost n·log k. */
export function unionAll(sets: readonly IdSet[]): IdSet {
  let queue = [...sets];
  if (!queue.length) return EMPTY;
  while (queue.length > 1) {
    queue.sort((x, y) => x.length - y.length);
    const [a, b, ...rest] = queue;
    queue = [merge(a!, b!), ...rest];
  }
  return queue[0]!;
}

/**
 * The first `n` of `ids` in (key, id) order. A page of a few dozen out of 10,000s is picked in
 * one pass, keeping the best `n` in a sorted buffer (most candidates lose to its last entry at
 * once); sorting everything (~5 ms and an object per candidate for 12,605) only for deep pages.
 */
export function firstInOrder(
  ids: IdSet,
  keys: Map<number, number>,
  dir: 'asc' | 'desc',
  n: number,
): number[] {
  const sign = dir === 'asc' ? 1 : -1;
  const before = (ka: number, a: number, kb: number, b: number) =>
    sign * (ka - kb) < 0 || (ka === kb && sign * (a - b) < 0);
  if (n > 1000) {
    const entries = Array.from(ids, (id) => ({ id, key: keys.get(id)! }));
    entries.sort((a, b) => sign * (a.key - b.key) || sign * (a.id - b.id));
    return entries.slice(0, n).map((e) => e.id);
  }
  const best: number[] = [];
  const bestKeys: number[] = [];
  for (const id of ids) {
    const key = keys.get(id)!;
    const last = best.length - 1;
    if (best.length === n && !before(key, id, bestKeys[last]!, best[last]!)) continue;
    let i = best.length === n ? last : best.length;
    while (i > 0 && before(key, id, bestKeys[i - 1]!, best[i - 1]!)) {
      best[i] = best[i - 1]!;
      bestKeys[i] = bestKeys[i - 1]!;
      i--;
    }
    best[i] = id;
    bestKeys[i] = key;
  }
  return best;
}

// ---- Tag postings -------------------------------------------------------------------------

// Each process keeps, for the tags that searches filter by, the sorted ids of the files carrying
// them (for ACTIVE files, HIDDEN files, and either), so ALL/ANY filters become intersections and
// unions of arrays in memory. Freshness comes from the database, not from this process: every
// use reads the tags' links_version (bumped by triggers, migration 2026-11-30T1000) and reloads a
// tag whose version moved, so several instances on one database stay exact without any message
// between them, and a write through any of them is seen by the next search on all of them.

/** At most this many ids (4 bytes each) are kept; the least recently used tags go first. */
const MAX_IDS = 8_000_000;

interface Entry {
  /** The tag's links_version read before its ids were: the ids are at least this new. */
  version: number;
  ids: Promise<IdSet>;
  /** 0 until loaded. */
  size: number;
}

export class TagPostings {
  readonly #entries = new Map<string, Entry>();
  #held = 0;

  constructor(
    /** Reads one tag's file ids for one file_tags.active value (null: both) from the database. */
    readonly load: (db: Executor, tagId: number, active: number | null) => Promise<IdSet>,
    readonly maxIds = MAX_IDS,
  ) {}

  /**
   * For each tag in order, the ids of its files with `status` (null: either status); none for a
   * tag whose version is null (no such tag). The versions come from the caller's own read of
   * `tags`, so no request reads them twice.
   */
  filesOf(
    db: Executor,
    tags: readonly { id: number; links_version: number | null }[],
    status: FileStatus | null,
  ): Promise<IdSet[]> {
    // Either status (an admin's view) is kept as a set of its own rather than merged per use.
    const active = linkActive(status);
    return Promise.all(
      tags.map((t) =>
        t.links_version === null
          ? Promise.resolve(EMPTY)
          : this.#ids(db, t.id, active, t.links_version),
      ),
    );
  }

  #ids(db: Executor, tagId: number, active: number | null, version: number): Promise<IdSet> {
    // `db` is a read snapshot (db/snapshot.ts) or the database itself: either way it sees
    // committed links only, and `version` was read where the ids are read, so ids loaded for a
    // version are that version's ids.
    const key = `${tagId}:${active ?? '*'}`;
    const hit = this.#entries.get(key);
    // Equal, not "at least": versions only grow, except when a database is restored from a
    // backup under a running server, and then a newer-looking entry must not be trusted.
    if (hit && hit.version === version) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, hit);
      return hit.ids;
    }
    // A snapshot older than the kept entry: its own ids, without replacing the newer ones.
    if (hit && hit.version > version && db.isTransaction) return this.load(db, tagId, active);
    if (hit) this.#drop(key, hit);
    const entry: Entry = { version, ids: this.load(db, tagId, active), size: 0 };
    this.#entries.set(key, entry);
    entry.ids.then(
      (ids) => {
        if (this.#entries.get(key) !== entry) return;
        entry.size = ids.length;
        this.#held += ids.length;
        this.#evict();
      },
      () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      },
    );
    return entry.ids;
  }

  #drop(key: string, entry: Entry) {
    this.#entries.delete(key);
    this.#held -= entry.size;
  }

  #evict() {
    for (const [key, entry] of this.#entries) {
      if (this.#held <= this.maxIds) break;
      if (entry.size) this.#drop(key, entry);
    }
  }
}

/** file_tags.active for a status filter: 1 for ACTIVE, 0 for HIDDEN, null for either. */
export const linkActive = (status: FileStatus | null): number | null =>
  status === 'ACTIVE' ? 1 : status === 'HIDDEN' ? 0 : null;
