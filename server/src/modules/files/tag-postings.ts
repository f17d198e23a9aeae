import { PostgresAdapter, sql } from 'kysely';
import type { Executor, FileStatus } from '../../db/database.js';
import { EMPTY, parseNumberList, toIdSet, type IdSet } from './sorted-ids.js';

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

  constructor(readonly maxIds = MAX_IDS) {}

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
    // Inside a transaction the links may hold uncommitted changes: read them, keep nothing.
    if (db.isTransaction) return readIds(db, tagId, active);
    const key = `${tagId}:${active ?? '*'}`;
    const hit = this.#entries.get(key);
    // Equal, not "at least": versions only grow, except when a database is restored from a
    // backup under a running server, and then a newer-looking entry must not be trusted.
    if (hit && hit.version === version) {
      this.#entries.delete(key); // most recently used last
      this.#entries.set(key, hit);
      return hit.ids;
    }
    if (hit) this.#drop(key, hit);
    const entry: Entry = { version, ids: readIds(db, tagId, active), size: 0 };
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

/**
 * One tag's file ids for one visibility (null: both), as a single comma-separated value rather
 * than 100,000s of rows (PostgreSQL's string_agg beat json_agg and array_agg here: ~70 against
 * ~90 and ~180 ms for 300,000 ids, parsing included).
 */
async function readIds(db: Executor, tagId: number, active: number | null): Promise<IdSet> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const list = pg ? sql`string_agg(file_id::text, ',')` : sql`group_concat(file_id)`;
  const row = (
    await sql<{ ids: string | null }>`select ${list} as ids
      from file_tags where tag_id = ${tagId}
      ${active === null ? sql`` : sql`and active = ${active}`}`.execute(db)
  ).rows[0];
  return toIdSet(parseNumberList(row?.ids));
}

/** file_tags.active for a status filter: 1 for ACTIVE, 0 for HIDDEN, null for either. */
export const linkActive = (status: FileStatus | null): number | null =>
  status === 'ACTIVE' ? 1 : status === 'HIDDEN' ? 0 : null;

const caches = new WeakMap<object, TagPostings>();

/** The postings of one database (one per Kysely instance, so test servers never share one). */
export function tagPostings(db: Executor): TagPostings {
  let cache = caches.get(db);
  if (!cache) {
    cache = new TagPostings();
    caches.set(db, cache);
  }
  return cache;
}
