import type { Dialect } from '../../db/connection.js';
import type { Db, Executor, FileRow, FileStatus, TagRow } from '../../db/database.js';
import { readSnapshot } from '../../db/snapshot.js';
import { NameIndex } from './name-index.js';
import type { Viewer } from '../auth/viewer.js';
import { canSeeStatus, seesHiddenFiles } from '../auth/visibility.js';
import { matchingTagIds, matchingTagVersions } from '../tags/tags.repository.js';
import {
  TagPostings,
  bitsetOf,
  firstInOrder,
  intersectAll,
  toIdSet,
  unionAll,
  type IdSet,
} from './postings.js';
import {
  ORDERS,
  countLibraryFiles,
  countResult,
  libraryTagCounts,
  readFilesInOrder,
  readFilesPage,
  readIdsInOrder,
  readListedTags,
  readNameMatches,
  readTagFileIds,
  readTaggedFiles,
  readTagsWithFiles,
  resultTagCounts,
  type FileOrder,
  type Filter,
} from './search.repository.js';

// The `files` listing and search: turns listing arguments into a plan once per request and
// answers the page, the total and the tag counts from it. How plans are chosen: SEARCH.md.

export type { FileOrder } from './search.repository.js';
export type TagMatch = 'ALL' | 'ANY';

export interface FileListArgs {
  status?: FileStatus | null;
  uploadedBy?: number | null;
  orderBy?: FileOrder | null;
  /** Case-insensitive substring of the file name or of one of its tags' names. */
  query?: string | null;
  tagIds?: readonly number[] | null;
  tagMatch?: TagMatch | null;
}

/** The arguments resolved against the database once per request. */
interface Plan extends Filter {
  /**
   * PostgreSQL only, ordering by date or size with a query: each candidate's order key, read
   * along with the candidates so the page is picked without reading 10,000s of rows again.
   */
  keys: Map<number, number> | null;
  /** Files in the library the viewer's status filter allows (trigger-kept totals). */
  libraryFiles: number;
  /** The listed tags (ALL or ANY) in order, with their postings version; null: no such tag. */
  listed: ListedTag[];
  /** Without a query or uploader: the result of the tag filter, from the postings (lazy). */
  tagResult?: Promise<IdSet>;
}

type ListedTag = { id: number; links_version: number | null };

/**
 * Below `driveLimit` candidates a page is cheapest read from the candidates themselves (one row
 * lookup each, then a sort); above it, walking the order's index and testing each row is, unless
 * the walk would visit more than `walkFactor` times as many rows as there are candidates. From
 * `tagCountsFromPostings` files in a result, its tag counts intersect it with every tag's
 * postings in memory instead of grouping its links in SQL. Exported so tests can force each
 * path.
 */
export const searchTuning = {
  driveLimit: 3000,
  walkFactor: 5,
  tagCountsFromPostings: 5000,
  /** Walks of up to this many rows read the rows at once rather than their ids first. */
  walkRows: 500,
  /**
   * Queries of three characters or more: from the name index once it is built ('auto'), or
   * always from it (waiting for its build), or always from the database's trigram index.
   */
  longQueries: 'auto' as 'auto' | 'memory' | 'database',
  /**
   * A server starting on a library of more files than this builds the name index at once, in
   * the background (`warmUp`): at 1,000,000 files the build takes 8–15 s here, which the first
   * one- or two-character query would wait for, and until it ends a longer query scans the
   * database's trigram index (150 ms to over a second). Smaller libraries build it in a blink at
   * their first query.
   */
  warmAbove: 50_000,
  /**
   * Whether answers are kept between requests while nothing they depend on moved (name-index.ts,
   * and the tag filters and tag counts of such an answer here). Off: every request computes.
   */
  keepAnswers: true,
};

export type TagCounts = { tag: TagRow; count: number }[];

/**
 * One listing request. `read` answers the page and whichever of the count and the tag counts the
 * request asks for in one read snapshot (db/snapshot.ts), so they describe the same moment;
 * `count` and `tagCounts` then hand those answers out (or, not asked for in `read`, compute them
 * in a snapshot of their own).
 */
export interface Search {
  read(request: {
    limit: number;
    offset: number;
    count?: boolean;
    tagCounts?: boolean;
  }): Promise<FileRow[]>;
  count(): Promise<number>;
  /** For each tag, how many files of the whole result carry it: most first, then by name. */
  tagCounts(): Promise<TagCounts>;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Which postings a set of tags stands for: the status, each tag and its links' version. */
const versionsKey = (
  status: FileStatus | null,
  tags: readonly { id: number; links_version: number | null }[],
) => `${status} ${tags.map((t) => `${t.id}.${t.links_version}`).join(',')}`;

const unfiltered = (p: Plan) =>
  p.uploadedBy == null && !p.candidates && !p.all.length && !p.any.length;

export function createSearchService(deps: {
  /** Where searches run: worker threads on SQLite (db/read-pool.ts), else the main pool. */
  reads: Db;
  /** Where the little search writes (pruning its change log) go. */
  db: Db;
  dialect: Dialect;
}) {
  const { dialect } = deps;
  // Queries on names: from memory (name-index.ts), built on first use.
  const names = new NameIndex(deps.reads, deps.db);
  // One per service, so test servers in one process never share postings.
  const postings = new TagPostings((conn, tagId, active) =>
    readTagFileIds(conn, dialect, tagId, active),
  );
  // Kept with a kept answer of the name index (searchTuning.keepAnswers), for as long as it
  // lives: its tag-filtered results by filter, and its tag counts.
  const filtered = new WeakMap<IdSet, Map<string, IdSet>>();
  const counted = new WeakMap<IdSet, { key: string; counts: TagCounts }>();
  // Results of tag filters without a query, by filter, kept while the tags' links are as they
  // were (their versions are in the key, as for `filtered`): the next page of a filter, and its
  // tag counts (kept by result above), reuse them instead of merging 100,000s of ids again.
  const tagFiltered = new Map<string, IdSet>();

  /** Null when nothing can match (a status the viewer may not see, an unknown ALL tag). */
  async function makePlan(
    db: Executor,
    viewer: Viewer,
    args: FileListArgs,
    /** Whether the name index answers the query (NameIndex.prepare). */
    fromMemory: boolean,
  ): Promise<Plan | null> {
    if (args.status && !canSeeStatus(viewer, args.status)) return null;
    const status: FileStatus | null = seesHiddenFiles(viewer) ? (args.status ?? null) : 'ACTIVE';
    const tagIds = [...new Set(args.tagIds ?? [])];
    const match = args.tagMatch ?? 'ALL';
    const all = match === 'ALL' ? tagIds : [];
    const any = match === 'ANY' ? tagIds : [];
    const libraryFiles = await countLibraryFiles(db, status);

    let rarest: Plan['rarest'] = null;
    const tagFiles = new Map<number, number>();
    let listed: ListedTag[] = [];
    if (tagIds.length) {
      const rows = await readListedTags(db, tagIds);
      if (all.length && rows.length < all.length) return null; // nothing carries an unknown tag
      const byId = new Map(rows.map((r) => [r.id, r]));
      listed = tagIds.map((id) => {
        const row = byId.get(id);
        return { id, links_version: row ? Number(row.links_version) : null };
      });
      if (all.length) {
        const min = rows.reduce((a, b) => (Number(b.files) < Number(a.files) ? b : a));
        rarest = { tagId: min.id, files: Number(min.files) };
        for (const r of rows) tagFiles.set(r.id, Number(r.files));
      }
    }

    const uploadedBy = args.uploadedBy ?? null;
    const plan: Plan = {
      status,
      uploadedBy,
      candidates: null,
      keys: null,
      all,
      any,
      libraryFiles,
      rarest,
      tagFiles,
      listed,
    };
    if (args.query) {
      const first = ORDERS[args.orderBy ?? 'NEWEST'].columns[0]!;
      ({ ids: plan.candidates, keys: plan.keys } = await textCandidates(
        db,
        args.query,
        plan,
        first,
        fromMemory,
      ));
    }
    return plan;
  }

  /**
   * The whole result of a search with a query: ids of the files the viewer may see (status,
   * uploader) that carry the listed tags (ALL/ANY) and whose lower-cased name contains the
   * lower-cased query, or that carry a tag whose name does. Names come from the name index in
   * memory (name-index.ts), or from the database's trigram index while that index is being built,
   * the tag conditions from the tags' postings in memory; everything is settled here, once per
   * request, so the count is the length of this list and the page and tag counts work on it
   * alone.
   */
  async function textCandidates(
    db: Executor,
    query: string,
    p: Pick<Plan, 'status' | 'uploadedBy' | 'all' | 'listed'>,
    /** The first column of the order. */
    orderColumn: string,
    fromMemory: boolean,
  ): Promise<{ ids: IdSet; keys: Map<number, number> | null }> {
    const lowered = query.toLowerCase();
    if (fromMemory) {
      // All in memory: names from the name index, tags' files from their postings.
      const matching = await matchingTagVersions(db, query);
      const tagged = await postings.filesOf(db, matching, p.status);
      const alsoKey = searchTuning.keepAnswers ? versionsKey(p.status, matching) : null;
      let ids = await names.matches(db, lowered, p.status, p.uploadedBy, tagged, alsoKey);
      if (ids.length && p.listed.length) {
        const key = `${p.all.length ? 'all' : 'any'} ${versionsKey(p.status, p.listed)}`;
        const kept = searchTuning.keepAnswers ? filtered.get(ids) : undefined;
        const hit = kept?.get(key);
        if (hit) return { ids: hit, keys: null };
        const result = await filterByListedTags(db, p, ids);
        if (searchTuning.keepAnswers) {
          if (!kept) filtered.set(ids, new Map([[key, result]]));
          else {
            // A few tag filters per kept answer: the newest replace the oldest.
            if (kept.size >= 8) kept.delete(kept.keys().next().value!);
            kept.set(key, result);
          }
        }
        ids = result;
      }
      return { ids, keys: null };
    }
    // file_search holds the immutable order keys (created_at, size).
    const keyColumn =
      dialect === 'postgres' && (orderColumn === 'created_at' || orderColumn === 'size')
        ? orderColumn
        : null;
    const [named, tagIds] = await Promise.all([
      readNameMatches(db, dialect, lowered, p.status, p.uploadedBy, keyColumn),
      matchingTagIds(db, query),
    ]);
    let ids = toIdSet(named.ids);
    const keys = named.keys && new Map(named.ids.map((id, i) => [id, named.keys![i]!]));
    if (tagIds.length) {
      const tagged = await readTaggedFiles(db, dialect, tagIds, p.status, p.uploadedBy, keyColumn);
      for (const r of tagged) keys?.set(Number(r.id), Number(r.key));
      ids = unionAll([ids, toIdSet(tagged.map((r) => Number(r.id)))]);
    }
    if (ids.length && p.listed.length) ids = await filterByListedTags(db, p, ids);
    return { ids, keys };
  }

  /**
   * The files of `ids` (all files when omitted) that carry every listed tag (ALL) or one of them
   * (ANY) with the viewer's status, by intersecting with the tags' postings in memory.
   */
  async function filterByListedTags(
    db: Executor,
    p: Pick<Plan, 'status' | 'all' | 'listed'>,
    ids?: IdSet,
  ): Promise<IdSet> {
    const sets = await postings.filesOf(db, p.listed, p.status);
    if (p.all.length) return intersectAll(ids ? [ids, ...sets] : sets);
    if (!ids) return unionAll(sets);
    // ANY: each id of the result tested against the listed tags' bitsets, without building
    // their union first (two popular tags: 100,000s of ids merged for nothing).
    const bitsets = sets.map((s) => bitsetOf(s));
    const out = new Int32Array(ids.length);
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      for (const b of bitsets) {
        if (b.has(id)) {
          out[n++] = id;
          break;
        }
      }
    }
    return out.subarray(0, n);
  }

  /** Tags alone (no query, no uploader): the whole result from the postings, once per request. */
  function tagFilterResult(db: Executor, p: Plan): Promise<IdSet> | null {
    if (p.candidates || p.uploadedBy != null || !p.listed.length) return null;
    if (p.tagResult) return p.tagResult;
    const key = searchTuning.keepAnswers
      ? `${p.all.length ? 'all' : 'any'} ${versionsKey(p.status, p.listed)}`
      : null;
    const kept = key !== null ? tagFiltered.get(key) : undefined;
    p.tagResult = kept
      ? Promise.resolve(kept)
      : filterByListedTags(db, p).then((result) => {
          if (key !== null) {
            // A few filters at a time: the newest replace the oldest.
            if (tagFiltered.size >= 8) tagFiltered.delete(tagFiltered.keys().next().value!);
            tagFiltered.set(key, result);
          }
          return result;
        });
    return p.tagResult;
  }

  async function page(
    db: Executor,
    p: Plan,
    orderBy: FileOrder,
    limit: number,
    offset: number,
  ): Promise<FileRow[]> {
    if (limit <= 0 || p.candidates?.length === 0) return [];
    if (p.candidates && p.keys) {
      const dir = ORDERS[orderBy].dir;
      return readFilesInOrder(
        db,
        firstInOrder(p.candidates, p.keys, dir, offset + limit).slice(offset),
      );
    }
    // Which set drives the page: the query's candidates, the rarest listed tag, or the order index.
    const drivingSize = Math.min(p.candidates?.length ?? Infinity, p.rarest?.files ?? Infinity);
    const walkRows = ((offset + limit) * p.libraryFiles) / Math.max(1, drivingSize);
    const drive =
      drivingSize <= searchTuning.driveLimit || walkRows > drivingSize * searchTuning.walkFactor;
    if (p.candidates && !drive) return walkCandidates(db, p, p.candidates, orderBy, limit, offset);
    return readFilesPage(db, dialect, p, orderBy, drive, { limit, offset });
  }

  /**
   * A page of a large candidate set: walks the ids of the order's index in batches and keeps
   * those in the set (a bitset), so the set itself never goes to the database. A batch is sized
   * from the set's density to end the walk in one step most of the time.
   */
  async function walkCandidates(
    db: Executor,
    p: Plan,
    candidates: IdSet,
    orderBy: FileOrder,
    limit: number,
    offset: number,
  ): Promise<FileRow[]> {
    const inSet = bitsetOf(candidates);
    const need = offset + limit;
    const density = candidates.length / Math.max(1, p.libraryFiles);
    let batch = Math.min(200_000, Math.ceil((need / density) * 1.25) + 64);
    let at = 0;
    const found: number[] = [];
    if (batch <= searchTuning.walkRows) {
      // A dense result (what typing produces): the first batch's rows themselves are read and
      // filtered here, one statement instead of ids and then rows.
      const plain = { ...p, uploadedBy: null, candidates: null, all: [], any: [], rarest: null };
      const rows = await readFilesPage(db, dialect, plain, orderBy, false, {
        limit: batch,
        offset: 0,
      });
      const kept = rows.filter((r) => inSet.has(r.id));
      if (kept.length >= need || rows.length < batch) return kept.slice(offset, need);
      found.push(...kept.map((r) => r.id));
      at = batch;
      batch = Math.min(200_000, batch * 2);
    }
    while (found.length < need) {
      const ids = await readIdsInOrder(db, dialect, p.status, orderBy, batch, at);
      for (const id of ids) if (inSet.has(id) && found.push(id) === need) break;
      if (ids.length < batch) break;
      at += batch;
      batch = Math.min(200_000, batch * 2);
    }
    return readFilesInOrder(db, found.slice(offset, need));
  }

  async function count(db: Executor, p: Plan): Promise<number> {
    if (p.candidates?.length === 0) return 0;
    if (unfiltered(p)) return p.libraryFiles;
    if (p.candidates) return p.candidates.length;
    const tagged = tagFilterResult(db, p);
    if (tagged) return (await tagged).length;
    return countResult(db, dialect, p);
  }

  async function tagCounts(db: Executor, p: Plan): Promise<TagCounts> {
    if (p.candidates?.length === 0) return [];
    if (unfiltered(p)) return libraryTagCounts(db, p.status);
    const result = p.candidates ?? (await tagFilterResult(db, p));
    if (result && result.length >= searchTuning.tagCountsFromPostings) {
      const counts = await countTagsInPostings(db, result, p.status);
      if (counts) return counts;
    }
    return resultTagCounts(db, dialect, p);
  }

  /**
   * Tag counts of a large result: its size in common with each tag's postings, in memory.
   * Grouping the links of 149,000 files in SQL took ~300 ms at a million files, of 411,000 (ANY
   * of two popular tags) ~3 s; this reads every tag's postings once per process (and a tag again
   * when it changed) and then tests each of their ids against the result as a bitset. Null when
   * all the tags' postings would not fit in the cache together, or there are over a thousand
   * tags. Tags come ordered by the database (name_key, id, in its collation) and a stable sort
   * puts the counts first, so ties fall as in the SQL path.
   */
  async function countTagsInPostings(
    db: Executor,
    result: IdSet,
    status: FileStatus | null,
  ): Promise<TagCounts | null> {
    const tags = await readTagsWithFiles(db, status);
    // Every tag's postings must fit in the cache together, or each request would reload them
    // all; and each tag is one query when (re)loaded, so thousands of tags stay with SQL.
    if (tags.length > 1000 || sum(tags.map((t) => Number(t.files))) > postings.maxIds / 2) {
      return null;
    }
    const sets = await postings.filesOf(
      db,
      tags.map((t) => ({ id: t.id, links_version: Number(t.links_version) })),
      status,
    );
    // A kept answer's counts hold while every tag (its row, links and size) is as it was.
    const key = searchTuning.keepAnswers ? `${status} ${JSON.stringify(tags)}` : null;
    const kept = counted.get(result);
    if (key !== null && kept?.key === key) return kept.counts;
    const inResult = bitsetOf(result);
    const counts = tags
      .map(({ files: _files, ...tag }, i) => ({ tag, count: inResult.countIn(sets[i]!) }))
      .filter((c) => c.count > 0)
      .sort((a, b) => b.count - a.count);
    if (key !== null) counted.set(result, { key, counts });
    return counts;
  }

  const snapshot = <T>(read: (conn: Executor) => Promise<T>) => readSnapshot(deps, read);

  return {
    /**
     * Builds the name index in the background when the library is larger than
     * `searchTuning.warmAbove`; resolves once it is built (or was not wanted). Never rejects.
     */
    async warmUp(): Promise<void> {
      const files = await countLibraryFiles(deps.reads, null).catch(() => 0);
      if (files > searchTuning.warmAbove) await names.warm();
    },
    /** Whether the name index is built. */
    nameIndexReady: () => names.ready,
    /** The search of one listing request (see `Search`). */
    open(viewer: Viewer, args: FileListArgs): Search {
      const orderBy = args.orderBy ?? 'NEWEST';
      let counted: Promise<number> | undefined;
      let tagged: Promise<TagCounts> | undefined;
      /** The name index readied before the snapshot begins (NameIndex.prepare says why). */
      const inSnapshot = async <T>(read: (db: Executor, p: Plan | null) => Promise<T>) => {
        const query = args.query?.toLowerCase();
        const fromMemory = query ? await names.prepare(query, searchTuning.longQueries) : false;
        return snapshot(async (db) => read(db, await makePlan(db, viewer, args, fromMemory)));
      };
      /** One part on its own: a plan and the part, in a snapshot of their own. */
      const alone = <T>(part: (db: Executor, p: Plan) => Promise<T>, none: T) =>
        inSnapshot((db, p) => (p ? part(db, p) : Promise.resolve(none)));
      return {
        async read({ limit, offset, count: withCount = false, tagCounts: withTagCounts = false }) {
          const result = inSnapshot(async (db, p) => {
            if (!p) return { rows: [] as FileRow[], count: 0, tagCounts: [] as TagCounts };
            // One after the other: they share the snapshot's one connection anyway.
            const rows = await page(db, p, orderBy, limit, offset);
            const n = withCount ? await count(db, p) : 0;
            const counts = withTagCounts ? await tagCounts(db, p) : [];
            return { rows, count: n, tagCounts: counts };
          });
          // Handed to the totalCount and tagCounts resolvers; when `read` fails they never run,
          // so their copies of the failure must not count as unhandled.
          if (withCount) (counted ??= result.then((r) => r.count)).catch(() => {});
          if (withTagCounts) (tagged ??= result.then((r) => r.tagCounts)).catch(() => {});
          return (await result).rows;
        },
        count: () => (counted ??= alone(count, 0)),
        tagCounts: () => (tagged ??= alone(tagCounts, [])),
      };
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
