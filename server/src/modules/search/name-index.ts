import { Worker } from 'node:worker_threads';
import type { Executor, FileStatus } from '../../db/database.js';
import { EMPTY, bitsetOf, type IdSet } from './postings.js';
import {
  pruneNameChanges,
  readIndexedFiles,
  readIndexedFilesByIds,
  readIndexStart,
  readNameChanges,
  type IndexedFile,
} from './search.repository.js';

// Name queries from memory. What typing produces (one, two, three letters: "a", "an", "ing")
// matches a large share of a library; the database's text indexes answer those by reading every
// match (one and two characters have no trigram at all: ~1.2 s at a million files; "ing" through
// SQLite's FTS5 trigram table or pg_trgm 0.7–3.6 s). This index keeps, for every one- and
// two-character substring of the lower-cased names, the ids of the files containing it, each
// file's lower-cased name, status and uploader. A one- or two-character query is one posting; a
// longer one intersects the postings of its two-character pieces (word-wise ANDs of bitsets for
// the common ones) and checks the survivors' names, so visibility and the exact match are applied
// here too.
//
// Exact across instances: triggers on `files` log every id whose name, status or uploader changed
// (file_name_changes, migration 2026-12-03T0200). Before each use the index applies the log past
// the last entry it saw by re-reading those files; ids changed since the build are then answered
// from their current names, not from the postings. Past REBUILD_AFTER changed ids it is rebuilt.
//
// Exact within a read snapshot (db/snapshot.ts): the index is shared and may have applied
// changes the request's snapshot does not see yet, or miss some it does see. `matches` compares
// the log as the snapshot sees it with what the index applied and re-reads the files that differ
// inside the snapshot, so a listing's count, page and tag counts agree.

/**
 * Chunks of the initial read: the main thread receives each chunk's rows in one piece (from the
 * SQLite read pool's thread or PostgreSQL's socket), so a chunk is what it may be held for.
 */
const CHUNK = 10_000;
/** Changed ids answered beside the postings before the index is built anew. */
const REBUILD_AFTER = 100_000;
/** Log entries written this recently are read again: on PostgreSQL they may commit late. */
const LATE_COMMIT_MS = 60_000;
/** Log entries are pruned after a day; a process that has not synced for that long rebuilds. */
const KEEP_CHANGES_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/** Ids held by kept answers at most (4 bytes each, and their bits). */
const CACHE_IDS = 4_000_000;

const STATUS_CODE: Record<FileStatus, number> = { ACTIVE: 1, HIDDEN: 2 };

/** The keys whose postings hold every file containing `lowered`: itself, or its pieces. */
function keysOf(lowered: string): string[] {
  const chars = [...lowered];
  if (chars.length <= 2) return [lowered];
  const out = new Set<string>();
  for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
  return [...out];
}

/**
 * A key's files: a sorted id list while it is sparse, one bit per possible id once it holds more
 * than one id in 32 (then the bits take less room than the list). Built on a worker thread
 * (name-index-worker.cjs); both are views into the buffers it hands back.
 */
class Posting {
  constructor(
    readonly ids: Int32Array,
    readonly bits: Uint32Array | null,
  ) {}

  get n(): number {
    return this.ids.length;
  }

  has(id: number): boolean {
    if (this.bits)
      return (id >>> 5 < this.bits.length && this.bits[id >>> 5]! & (1 << (id & 31))) !== 0;
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.n && this.ids[lo] === id;
  }

  /** Ids in the posting (bits: an upper bound from the capacity, enough to order by). */
  get size(): number {
    return this.bits ? this.bits.length * 32 : this.n;
  }

  forEach(fn: (id: number) => void) {
    if (!this.bits) {
      for (let i = 0; i < this.n; i++) fn(this.ids[i]!);
      return;
    }
    const bits = this.bits;
    for (let w = 0; w < bits.length; w++) {
      let word = bits[w]!;
      while (word !== 0) {
        const low = word & -word;
        fn((w << 5) + 31 - Math.clz32(low));
        word ^= low;
      }
    }
  }
}

interface Built {
  postings: Map<string, Posting>;
  /** Per id known at the build: its lower-cased name, for checking longer queries. */
  names: string[];
  /** Per id: 0 no such file, else STATUS_CODE. Grows with new ids. */
  status: Uint8Array;
  /** Per id: the uploader (0: none). */
  uploader: Int32Array;
  /** Ids changed since the build, with their current lower-cased name (null: deleted). */
  changed: Map<number, string | null>;
  /** Per id: 1 when in `changed`, so the postings' entry for it is not trusted. */
  dirty: Uint8Array;
  /**
   * The same as bits, for the ids the build knew: ACTIVE files, HIDDEN files, changed files. A
   * dense posting is filtered a 32-bit word at a time with them.
   */
  activeBits: Uint32Array;
  hiddenBits: Uint32Array;
  dirtyBits: Uint32Array;
  /** The last log entry the index reflects. */
  lastSeq: number;
  /**
   * Moves whenever a sync changes what the index answers (a late-committed entry can do so
   * without moving lastSeq): kept answers of an older generation are not used.
   */
  generation: number;
  /** Log entries applied lately (written in the last 2 × LATE_COMMIT_MS), by seq. */
  applied: Map<number, { fileId: number; at: number }>;
}

/** An answer of `matches`, valid while the index is `built` at `generation`. */
interface Answer {
  built: Built;
  generation: number;
  ids: IdSet;
}

/** A test of whether a file exists with the status (null: either) and uploader (null: anyone). */
function visibleIn(b: Built, status: FileStatus | null, uploadedBy: number | null) {
  const want = status ? STATUS_CODE[status] : 0;
  const { status: codes, uploader } = b;
  return (id: number) => {
    const s = codes[id] ?? 0;
    return (
      s !== 0 && (want === 0 || s === want) && (uploadedBy == null || uploader[id] === uploadedBy)
    );
  };
}

/** The ids whose bits are set, ascending. */
function bitsToIds(bits: Uint32Array): IdSet {
  let n = 0;
  for (let w = 0; w < bits.length; w++) n += popcount(bits[w]!);
  const out = new Int32Array(n);
  let k = 0;
  for (let w = 0; w < bits.length; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const low = word & -word;
      out[k++] = (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
  return out;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

const grow = <T extends Uint8Array | Int32Array>(a: T, id: number, make: (n: number) => T): T => {
  if (id < a.length) return a;
  const out = make(Math.max(id + 1, Math.ceil(a.length * 1.5)));
  out.set(a);
  return out;
};

export class NameIndex {
  #built: Promise<Built> | null = null;
  /** Set once a build finished: longer queries use the database's text index until then. */
  #ready = false;
  #rebuilding = false;
  #syncing: Promise<void> | null = null;
  #prunedAt = 0;
  /**
   * Recent answers, least recently used first. What typing produces repeats across people
   * ("a", "an", "re" …) and a one-character answer holds a large share of the library, so it is
   * kept while the index and the tags it added are as they were (see `matches`).
   */
  readonly #answers = new Map<string, Answer>();
  #answerIds = 0;

  constructor(
    /** Where the index reads (the read pool on SQLite). */
    readonly reads: Executor,
    /** Where the log is pruned (a write). */
    readonly writes: Executor,
  ) {}

  /**
   * Whether `matches` answers this lower-cased query now. One or two characters: always (the
   * first one builds the index, seconds at a million files; no database index does better).
   * Longer: once the index is built, and the first such query starts the build in the
   * background, so it never waits for it.
   */
  answers(lowered: string, longQueries: 'auto' | 'memory' | 'database' = 'auto'): boolean {
    const n = [...lowered].length;
    if (n >= 1 && n <= 2) return true;
    if (longQueries !== 'auto') return longQueries === 'memory';
    if (!this.#ready) {
      this.#built ??= this.#build();
      // A failed build is retried by the next query; the caller meanwhile uses the database.
      this.#built.catch(() => (this.#built = null));
    }
    return this.#ready;
  }

  /** Whether a build has finished (queries of any length are answered from memory). */
  get ready(): boolean {
    return this.#ready;
  }

  /**
   * Starts the build in the background, if none was started, so the first queries after a start
   * neither wait for it (one or two characters) nor fall back to the database (longer ones). A
   * failed build is left to the next query to retry.
   */
  warm(): Promise<void> {
    this.#built ??= this.#build();
    return this.#built.then(
      () => undefined,
      () => void (this.#built = null),
    );
  }

  /**
   * Readies the index for a query before the request's snapshot begins: builds it when needed
   * (see `answers`) and applies the change log. Outside the snapshot on purpose: on PostgreSQL a
   * snapshot holds one of the pool's connections, and a request holding one while waiting for
   * another (to read the log) could, ten at a time, wait on each other for ever. True when
   * `matches` answers the query.
   */
  async prepare(lowered: string, longQueries: 'auto' | 'memory' | 'database'): Promise<boolean> {
    if (!this.answers(lowered, longQueries)) return false;
    await this.#ready_();
    return true;
  }

  /**
   * Ids of the files with the status (null: either) and uploader (null: anyone) whose
   * lower-cased name contains `lowered`, ascending, as `snapshot` sees the database. In a
   * snapshot, `prepare` must have said yes first.
   */
  async matches(
    /** The request's read snapshot (or any executor: then as of the last sync). */
    snapshot: Executor,
    lowered: string,
    status: FileStatus | null,
    uploadedBy: number | null,
    /** Sets of ids (of the wanted status) to add, such as the files of tags whose name matches. */
    also: readonly IdSet[] = [],
    /**
     * What `also` holds (such as the tags' ids and versions), so the answer may be kept and
     * served again while the index has not moved; null: not kept.
     */
    alsoKey: string | null = null,
  ): Promise<IdSet> {
    const inSnapshot = snapshot.isTransaction;
    const b = inSnapshot ? await this.#current() : await this.#ready_();
    const overlay = inSnapshot ? await this.#overlay(snapshot, b) : null;
    // Kept only when the snapshot sees exactly what the index has applied.
    const key =
      alsoKey !== null && !overlay?.size
        ? `${lowered}\u0000${status}\u0000${uploadedBy}\u0000${alsoKey}`
        : null;
    if (key !== null) {
      const hit = this.#answers.get(key);
      if (hit && hit.built === b && hit.generation === b.generation) {
        this.#answers.delete(key); // most recently used last
        this.#answers.set(key, hit);
        return hit.ids;
      }
    }
    const ids = this.#compute(b, overlay, lowered, status, uploadedBy, also);
    if (key !== null) this.#keep(key, { built: b, generation: b.generation, ids });
    return ids;
  }

  #keep(key: string, answer: Answer) {
    const old = this.#answers.get(key);
    if (old) {
      this.#answers.delete(key);
      this.#answerIds -= old.ids.length;
    }
    if (answer.ids.length > CACHE_IDS / 4) return;
    this.#answers.set(key, answer);
    this.#answerIds += answer.ids.length;
    for (const [k, a] of this.#answers) {
      if (this.#answerIds <= CACHE_IDS) break;
      this.#answers.delete(k);
      this.#answerIds -= a.ids.length;
    }
  }

  #compute(
    b: Built,
    overlay: Map<number, IndexedFile | null> | null,
    lowered: string,
    status: FileStatus | null,
    uploadedBy: number | null,
    also: readonly IdSet[],
  ): IdSet {
    const { dirty } = b;
    const ok = visibleIn(b, status, uploadedBy);
    const want = status ? STATUS_CODE[status] : 0;
    // Everything is gathered in one bitset and read out in order: a union of sets of 100,000s
    // of ids costs a pass over each, not a merge of arrays.
    let max = b.status.length;
    for (const set of also) if (set.length) max = Math.max(max, set[set.length - 1]! + 1);
    for (const id of overlay?.keys() ?? []) max = Math.max(max, id + 1);
    const bits = new Uint32Array((max >>> 5) + 1);
    const set = (id: number) => void (bits[id >>> 5]! |= 1 << (id & 31));
    const keys = keysOf(lowered);
    const postings = keys.map((k) => b.postings.get(k));
    if (postings.every((p) => p !== undefined)) {
      const exact = keys.length === 1 && keys[0] === lowered;
      const sorted = (postings as Posting[]).sort((x, y) => x.size - y.size);
      if (sorted.every((p) => p.bits) && uploadedBy == null) {
        // Common pieces: AND their bitsets a 32-bit word at a time with the visible, unchanged
        // files; then, for a longer query, check each survivor's name.
        const { activeBits: active, hiddenBits: hidden, dirtyBits: changed } = b;
        const words = Math.min(...sorted.map((p) => p.bits!.length));
        for (let w = 0; w < words; w++) {
          let word = want === 1 ? active[w]! : want === 2 ? hidden[w]! : active[w]! | hidden[w]!;
          word &= ~changed[w]!;
          for (let k = 0; word !== 0 && k < sorted.length; k++) word &= sorted[k]!.bits![w]!;
          if (!exact) {
            for (let rest = word; rest !== 0;) {
              const low = rest & -rest;
              rest ^= low;
              if (!b.names[(w << 5) + 31 - Math.clz32(low)]!.includes(lowered)) word ^= low;
            }
          }
          bits[w]! |= word;
        }
      } else {
        // A rare piece: walk its ids and test the others.
        const [first, ...others] = sorted;
        first!.forEach((id) => {
          if (dirty[id] === 1 || !ok(id)) return;
          for (const p of others) if (!p.has(id)) return;
          if (exact || b.names[id]!.includes(lowered)) set(id);
        });
      }
    }
    for (const [id, name] of b.changed) if (name?.includes(lowered) && ok(id)) set(id);
    for (const ids of also) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        if (uploadedBy == null || b.uploader[id] === uploadedBy) set(id);
      }
    }
    if (overlay) {
      // Files the snapshot sees otherwise than the index: answered from the snapshot's rows.
      for (const [id, row] of overlay) {
        bits[id >>> 5]! &= ~(1 << (id & 31));
        if (!row || (want && STATUS_CODE[row.status] !== want)) continue;
        if (uploadedBy != null && row.uploaded_by !== uploadedBy) continue;
        // Tags' files (`also`) come from the snapshot already.
        if (row.name.toLowerCase().includes(lowered) || also.some((ids) => hasId(ids, id))) {
          set(id);
        }
      }
    }
    const ids = bitsToIds(bits);
    // The bits are those of the answer exactly: pages and tag counts test against them.
    bitsetOf(ids, bits);
    return ids;
  }

  /**
   * The files whose state in `snapshot` may differ from the index's: log entries the snapshot
   * sees that the index has not applied, and entries the index applied that the snapshot does
   * not see (committed after it began). Both only among recent entries: older ones are seen by
   * both. Each such file as the snapshot has it (null: not there).
   */
  async #overlay(snapshot: Executor, b: Built): Promise<Map<number, IndexedFile | null>> {
    const since = Date.now() - LATE_COMMIT_MS;
    const { changes } = await readNameChanges(snapshot, b.lastSeq, since);
    const seen = new Set(changes.map((c) => c.seq));
    const out = new Map<number, IndexedFile | null>();
    for (;;) {
      const ids = new Set<number>();
      for (const c of changes) if (!b.applied.has(c.seq)) ids.add(c.file_id);
      for (const [seq, a] of b.applied) if (a.at >= since && !seen.has(seq)) ids.add(a.fileId);
      for (const id of out.keys()) ids.delete(id);
      if (!ids.size) return out;
      const list = [...ids];
      for (const id of list) out.set(id, null);
      for (let i = 0; i < list.length; i += 10_000) {
        for (const r of await readIndexedFilesByIds(snapshot, list.slice(i, i + 10_000))) {
          out.set(r.id, r);
        }
      }
      // Meanwhile another request may have synced the index further: look again.
    }
  }

  /** The index as it is (`prepare` built it), without reading anything. */
  async #current(): Promise<Built> {
    if (!this.#built) throw new Error('The name index is not built: prepare() first.');
    return this.#built;
  }

  /** The built index, with the change log applied. */
  async #ready_(): Promise<Built> {
    this.#built ??= this.#build();
    let built: Built;
    try {
      built = await this.#built;
    } catch (err) {
      this.#built = null;
      throw err;
    }
    // One sync at a time; a request arriving meanwhile waits for it, then syncs again.
    while (this.#syncing) await this.#syncing;
    this.#syncing = this.#sync(built).finally(() => (this.#syncing = null));
    await this.#syncing;
    return (await this.#built) ?? built;
  }

  async #build(): Promise<Built> {
    // Whatever changes after this log position is applied by the next sync, files added after
    // the highest id included.
    const { lastSeq, maxId } = await readIndexStart(this.reads);
    const capacity = maxId + 1;
    const names = new Array<string>(capacity);
    const status = new Uint8Array(capacity);
    const uploader = new Int32Array(capacity);
    const words = (capacity >>> 5) + 1;
    const activeBits = new Uint32Array(words);
    const hiddenBits = new Uint32Array(words);
    const worker = new PostingsWorker(capacity);
    try {
      for (let after = 0; after < capacity - 1;) {
        const chunk = await readIndexedFiles(this.reads, after, CHUNK);
        if (!chunk.length) break;
        after = chunk[chunk.length - 1]!.id;
        const ids = new Int32Array(chunk.length);
        const lowered = new Array<string>(chunk.length);
        let n = 0;
        for (const f of chunk) {
          if (f.id >= capacity) break;
          status[f.id] = STATUS_CODE[f.status];
          (f.status === 'ACTIVE' ? activeBits : hiddenBits)[f.id >>> 5]! |= 1 << (f.id & 31);
          uploader[f.id] = f.uploaded_by ?? 0;
          ids[n] = f.id;
          lowered[n++] = names[f.id] = f.name.toLowerCase();
        }
        worker.add(ids.subarray(0, n), lowered.slice(0, n));
      }
      const postings = await worker.finish();
      this.#ready = true;
      return {
        postings,
        names,
        status,
        uploader,
        changed: new Map(),
        dirty: new Uint8Array(capacity),
        activeBits,
        hiddenBits,
        dirtyBits: new Uint32Array(words),
        lastSeq,
        generation: 0,
        applied: new Map(),
      };
    } finally {
      void worker.terminate();
    }
  }

  async #sync(b: Built): Promise<void> {
    const now = Date.now();
    const { first, changes } = await readNameChanges(this.reads, b.lastSeq, now - LATE_COMMIT_MS);
    if (first !== null && first > b.lastSeq + 1) {
      // Entries this index needs were pruned (it was idle for a day): read everything again.
      this.#built = this.#build();
      await this.#built;
      return;
    }
    const fresh = changes.filter((c) => !b.applied.has(c.seq));
    if (fresh.length) {
      const ids = [...new Set(fresh.map((c) => c.file_id))];
      const rows = new Map<number, IndexedFile>();
      for (let i = 0; i < ids.length; i += 10_000) {
        for (const r of await readIndexedFilesByIds(this.reads, ids.slice(i, i + 10_000))) {
          rows.set(r.id, r);
        }
      }
      for (const id of ids) {
        const row = rows.get(id);
        b.status = grow(b.status, id, (n) => new Uint8Array(n));
        b.uploader = grow(b.uploader, id, (n) => new Int32Array(n));
        b.dirty = grow(b.dirty, id, (n) => new Uint8Array(n));
        b.status[id] = row ? STATUS_CODE[row.status] : 0;
        b.uploader[id] = row?.uploaded_by ?? 0;
        b.dirty[id] = 1;
        if (id >>> 5 < b.dirtyBits.length) b.dirtyBits[id >>> 5]! |= 1 << (id & 31);
        b.changed.set(id, row ? row.name.toLowerCase() : null);
      }
      // Marked applied only now that the files were read: a snapshot meanwhile re-reads them.
      for (const c of fresh) b.applied.set(c.seq, { fileId: c.file_id, at: c.at });
      b.lastSeq = fresh.reduce((max, c) => Math.max(max, c.seq), b.lastSeq);
      b.generation++;
    }
    for (const [seq, a] of b.applied) if (a.at < now - 2 * LATE_COMMIT_MS) b.applied.delete(seq);
    if (b.changed.size > REBUILD_AFTER && !this.#rebuilding) this.#rebuildInBackground();
    if (now - this.#prunedAt > PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      pruneNameChanges(this.writes, now - KEEP_CHANGES_MS).catch(() => {
        // Another instance may be pruning at the same moment; the next prune catches up.
        this.#prunedAt = 0;
      });
    }
  }

  /** Builds afresh while the current index keeps answering; swaps when done. */
  #rebuildInBackground() {
    this.#rebuilding = true;
    this.#build().then(
      (next) => {
        this.#built = Promise.resolve(next);
        this.#rebuilding = false;
      },
      () => {
        this.#rebuilding = false;
      },
    );
  }
}

/** What name-index-worker.cjs hands back: every posting, in two buffers. */
interface Packed {
  sparseKeys: string[];
  /** Where each sparse key's ids start in `sparse` (one more entry: the end). */
  offsets: Int32Array;
  sparse: Int32Array;
  denseKeys: string[];
  /** `words` 32-bit words per dense key, in the order of `denseKeys`. */
  dense: Uint32Array;
  words: number;
}

/** One build's worker thread (name-index-worker.cjs): names in, postings out. */
class PostingsWorker {
  readonly #worker: Worker;
  readonly #result: Promise<Packed>;

  constructor(capacity: number) {
    this.#worker = new Worker(new URL('./name-index-worker.cjs', import.meta.url), {
      workerData: { capacity },
    });
    // A build left behind by a closing server must not keep the process alive.
    this.#worker.unref();
    this.#result = new Promise<Packed>((resolve, reject) => {
      this.#worker.once('message', resolve);
      this.#worker.once('error', reject);
      this.#worker.once('exit', (code) => reject(new Error(`name index worker exited: ${code}`)));
    });
    // Failures surface through finish(); until then they must not count as unhandled.
    this.#result.catch(() => {});
  }

  add(ids: Int32Array<ArrayBuffer>, names: string[]) {
    this.#worker.postMessage({ ids, names }, [ids.buffer]);
  }

  async finish(): Promise<Map<string, Posting>> {
    this.#worker.postMessage({ done: true });
    const packed = await this.#result;
    const postings = new Map<string, Posting>();
    const { offsets, sparse, dense, words } = packed;
    packed.sparseKeys.forEach((key, i) => {
      postings.set(key, new Posting(sparse.subarray(offsets[i]!, offsets[i + 1]!), null));
    });
    packed.denseKeys.forEach((key, i) => {
      postings.set(key, new Posting(EMPTY, dense.subarray(i * words, (i + 1) * words)));
    });
    return postings;
  }

  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}

/** Whether the ascending `ids` hold `id`. */
function hasId(ids: IdSet, id: number): boolean {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < ids.length && ids[lo] === id;
}
