import type { Dialect } from '../../db/connection.js';
import type { Db, Executor } from '../../db/database.js';
import type { StorageDriver } from '../../storage/storage.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import { createBlobLock } from '../blobs/blob-lock.js';
import { listBlobIntents } from '../blobs/blobs.repository.js';
import * as repo from './doctor.repository.js';
import {
  otherOf,
  ROLLUP_TABLES,
  rollupDrift,
  writeRollups,
  type RollupDrift,
  type RollupKeys,
} from './rollup-drift.repository.js';
import { listLeases, removeLapsedLeases } from './instances.repository.js';
import { findStale, resolveIntent } from './stale.js';
import { countLiveUnfinished, listExpiredUnfinished } from '../uploads/uploads.repository.js';
import { sweepExpiredUploads } from '../uploads/uploads.service.js';

// `npm run doctor` (cli/doctor.ts): checks that the database is sound, that every counter equals
// what its rows say, and that storage and the blobs table agree; with `repair`, fixes what can be
// fixed without guessing. A file whose bytes are missing is reported, never deleted: only a person
// can tell whether a backup has them.

export type CheckId =
  | 'integrity'
  | 'counters'
  | 'search-index'
  | 'rollups'
  | 'blob-intents'
  | 'temp-uploads'
  | 'expired-uploads'
  | 'orphan-blobs'
  | 'missing-blobs';

export interface Finding {
  /** For machines: the counter or kind of problem, e.g. `files.download_count`. */
  kind: string;
  /** One line for people. */
  message: string;
  repairable: boolean;
  repaired: boolean;
}

export interface CheckResult {
  id: CheckId;
  title: string;
  /** Set when the check could not run here (and why is in `notes`). */
  skipped: boolean;
  notes: string[];
  findings: Finding[];
}

export interface DoctorReport {
  dialect: Dialect;
  repair: boolean;
  checks: CheckResult[];
  problems: number;
  repaired: number;
  /** Problems left after this run: the exit code is 1 when this is not 0. */
  remaining: number;
}

export interface DoctorDeps {
  db: Db;
  dialect: Dialect;
  storage: StorageDriver;
}

// Repairs name rows by id; SQLite allows 32,766 bound values, and no statement needs to be huge.
const BATCH = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

/** Rows of each rollup table the doctor lists (and repairs) in one run. */
const ROLLUPS_LISTED = 1000;

/** The ids of each kind among drifted rollup rows. */
function keysOf(drift: readonly RollupDrift[]): RollupKeys {
  const ids = (kind: RollupDrift['kind']) => [
    ...new Set(drift.filter((d) => d.kind === kind).map((d) => d.id)),
  ];
  return { file: ids('file'), user: ids('user'), tag: ids('tag') };
}

const quote = (s: string) => JSON.stringify(s);
const when = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString());

/** Runs every check; with `repair`, fixes each repairable finding right after finding it. */
export async function runDoctor(
  deps: DoctorDeps,
  options: { repair?: boolean } = {},
): Promise<DoctorReport> {
  const { db, dialect, storage } = deps;
  const repair = options.repair ?? false;
  const withBlobLock = createBlobLock(db, dialect);

  // On PostgreSQL a recount runs serializable, so a download committed meanwhile by a running
  // server either is in the count or makes the repair retry; SQLite has one writer anyway.
  const inRepair = <T>(fn: (trx: Executor) => Promise<T>) =>
    retryOnDeadlock(dialect, () =>
      dialect === 'postgres'
        ? db.transaction().setIsolationLevel('serializable').execute(fn)
        : db.transaction().execute(fn),
    );

  const checks: CheckResult[] = [];
  const check = (id: CheckId, title: string): CheckResult => {
    const result: CheckResult = { id, title, skipped: false, notes: [], findings: [] };
    checks.push(result);
    return result;
  };
  const found = (c: CheckResult, kind: string, message: string, repairable: boolean): Finding => {
    const finding: Finding = { kind, message, repairable, repaired: false };
    c.findings.push(finding);
    return finding;
  };
  const markRepaired = (findings: Finding[]) => {
    for (const f of findings) f.repaired = true;
  };

  // --- database integrity -------------------------------------------------------------------
  const integrity = check('integrity', 'Database integrity');
  if (dialect === 'sqlite') {
    const result = await repo.sqliteIntegrityCheck(db);
    if (!(result.length === 1 && result[0] === 'ok')) {
      for (const line of result) found(integrity, 'sqlite.integrity_check', line, false);
    }
  } else {
    const amcheck = await repo.amcheckState(db);
    if (amcheck === 'installed') {
      for (const f of await repo.pgCheckIndexes(db)) {
        found(integrity, 'postgres.bt_index_check', `index ${f.index}: ${f.error}`, false);
      }
    } else {
      integrity.notes.push(
        amcheck === 'available'
          ? 'index structure not checked: the amcheck extension is not installed (CREATE EXTENSION amcheck; as a superuser enables it)'
          : 'index structure not checked: amcheck is not available on this server',
      );
    }
    for (const name of await repo.pgUnvalidatedConstraints(db)) {
      found(integrity, 'postgres.not_valid', `constraint ${name} was never validated`, false);
    }
  }
  for (const d of await repo.danglingReferences(db)) {
    found(integrity, 'reference', `${d.rows} row(s) of ${d.reference} point nowhere`, false);
  }

  // --- counters, each checked after the ones before it were repaired ------------------------
  const counters = check('counters', 'Counters against their rows');
  /** Reports each drifted row, then (repairing) recounts them by id, a batch at a time. */
  const recount = async <D extends { id: number }>(
    drift: D[],
    describe: (d: D) => { kind: string; message: string },
    repairIds: (trx: Executor, ids: number[]) => Promise<void>,
  ) => {
    const fs = drift.map((d) => {
      const { kind, message } = describe(d);
      return found(counters, kind, message, true);
    });
    if (!repair || !drift.length) return;
    for (const ids of chunks(drift.map((d) => d.id))) await inRepair((trx) => repairIds(trx, ids));
    markRepaired(fs);
  };
  await recount(
    await repo.fileDownloadDrift(db),
    (d) => ({
      kind: d.storedCount !== d.countedCount ? 'files.download_count' : 'files.last_downloaded_at',
      message:
        `file ${d.id} ${quote(d.name)}: download_count ${d.storedCount}, last_downloaded_at ` +
        `${when(d.storedLast)}; its downloads say ${d.countedCount}, ${when(d.countedLast)}`,
    }),
    repo.repairFileDownloads,
  );
  await recount(
    await repo.userDownloadDrift(db),
    (d) => ({
      kind: 'users.download_count',
      message: `user ${d.id} ${quote(d.email)}: download_count ${d.stored}, downloads made ${d.counted}`,
    }),
    repo.repairUserDownloads,
  );
  await recount(
    await repo.userUploadDrift(db),
    (d) => ({
      kind: 'users.upload_count',
      message:
        `user ${d.id} ${quote(d.email)}: upload_count ${d.stored} (uploads_hidden ` +
        `${d.storedHidden}), but ${d.counted} files uploaded by them exist ` +
        `(${d.countedHidden} HIDDEN)`,
    }),
    repo.repairUserUploads,
  );
  await recount(
    await repo.userBytesDrift(db),
    (d) => ({
      kind: 'users.used_bytes',
      message: `user ${d.id} ${quote(d.email)}: used_bytes ${d.stored}, but their files and trash hold ${d.counted}`,
    }),
    repo.repairUserBytes,
  );
  {
    const drift = await repo.blobRefDrift(db);
    for (const d of drift) {
      const f = found(
        counters,
        d.counted ? 'blobs.ref_count' : 'blobs.unused',
        d.counted
          ? `blob ${d.sha256}: ref_count ${d.stored}, used by ${d.counted} file(s)`
          : `blob ${d.sha256}: ref_count ${d.stored}, but no file uses it (row and object should be gone)`,
        true,
      );
      if (!repair) continue;
      await withBlobLock(d.sha256, async (conn) => {
        if (d.counted) {
          await repo.repairBlobRef(conn, d.sha256);
        } else if (await repo.deleteUnusedBlobRow(conn, d.sha256)) {
          await storage.delete(d.sha256);
        }
      });
      f.repaired = true;
    }
  }
  {
    const drift = await repo.tagCounterDrift(db);
    const fs = drift.map((d) => {
      const parts = (['filesActive', 'filesHidden', 'downloadsActive', 'downloadsHidden'] as const)
        .filter((k) => d.stored[k] !== d.counted[k])
        .map((k) => `${k} ${d.stored[k]} (counted ${d.counted[k]})`);
      return found(
        counters,
        'tags.counters',
        `tag ${d.id} ${quote(d.name)}: ${parts.join(', ')}`,
        true,
      );
    });
    if (repair && drift.length) {
      for (const ids of chunks(drift.map((d) => d.id))) {
        await inRepair((trx) => repo.repairTagCounters(trx, ids));
      }
      markRepaired(fs);
    }
  }
  {
    const drift = await repo.fileTotalsDrift(db);
    const fs = drift.map((d) =>
      found(
        counters,
        'file_totals',
        `file_totals ${d.status}: ${d.stored ?? 'no row'}, files ${d.counted}`,
        true,
      ),
    );
    if (repair && drift.length) {
      await inRepair((trx) => repo.repairFileTotals(trx));
      markRepaired(fs);
    }
  }
  {
    const drift = await repo.downloadHoursDrift(db);
    for (const d of drift) {
      const f = found(
        counters,
        'download_hours',
        `download_hours ${when(d.hour)}: ${d.stored ?? 'no row'}, downloads ${d.counted}`,
        true,
      );
      if (!repair) continue;
      await inRepair((trx) => repo.repairDownloadHour(trx, d.hour));
      f.repaired = true;
    }
  }
  {
    const drift = await repo.linkActiveDrift(db);
    const fs = drift.map((d) =>
      found(
        counters,
        'file_tags.active',
        `link of file ${d.fileId} to tag ${d.tagId}: active ${d.stored}, file says ${d.expected}`,
        true,
      ),
    );
    if (repair && drift.length) {
      for (const ids of chunks([...new Set(drift.map((d) => d.fileId))])) {
        await inRepair((trx) => repo.repairLinkActive(trx, ids));
      }
      markRepaired(fs);
    }
  }

  // --- search index -------------------------------------------------------------------------
  const search = check('search-index', 'Search index against file names and statuses');
  {
    const ids = await repo.searchIndexDrift(db, dialect);
    const fs = ids.map((id) =>
      found(search, 'search_index', `file ${id}: search index row missing, extra or stale`, true),
    );
    if (repair && ids.length) {
      for (const batch of chunks(ids)) {
        await inRepair((trx) => repo.repairSearchIndex(trx, dialect, batch));
      }
      markRepaired(fs);
    }
  }

  // --- statistics rollups -------------------------------------------------------------------
  const rollups = check('rollups', 'Statistics rollups against the downloads');
  for (const table of ROLLUP_TABLES) {
    const drift = await rollupDrift(db, dialect, table, { limit: ROLLUPS_LISTED });
    if (drift.length === ROLLUPS_LISTED) {
      rollups.notes.push(
        `${table}: only the first ${ROLLUPS_LISTED} rows that differ are listed; --repair recounts every row of their ids, and a second run finds any others`,
      );
    }
    const fs = drift.map((d) =>
      found(
        rollups,
        `${table}.${d.kind}`,
        `${table} ${d.kind} ${d.id}${otherOf(table) ? ` ${otherOf(table)} ${d.other}` : ''}${d.at ? ` ${when(d.at)}` : ''}: ${d.stored}, downloads ${d.counted}`,
        true,
      ),
    );
    if (repair && drift.length) {
      // Each batch recounts every row of its ids again inside the repair's transaction, so a
      // download a running server records meanwhile is counted or makes the batch retry.
      for (const batch of chunks(drift)) {
        await inRepair(async (trx) => {
          const only = keysOf(batch);
          const now = await rollupDrift(trx, dialect, table, { limit: 1_000_000, only });
          await writeRollups(trx, table, now);
        });
      }
      markRepaired(fs);
    }
  }

  // --- crash leftovers: blob intents and temp uploads of instances without a live lease ------
  const stale = await findStale(db, dialect, storage);
  const leases = await listLeases(db, dialect);
  const intentsCheck = check('blob-intents', 'Blob commits left unfinished by a crash');
  for (const intent of stale.intents) {
    const f = found(
      intentsCheck,
      'blob_intent',
      `blob ${intent.sha256} of instance ${intent.instance} (no live lease), recorded ${when(intent.createdAt)}`,
      true,
    );
    if (!repair) continue;
    await resolveIntent(db, dialect, storage, intent);
    f.repaired = true;
  }
  if (stale.inFlight.intents) {
    intentsCheck.notes.push(`${stale.inFlight.intents} commit(s) in flight on live instances`);
  }
  const lapsed = leases.filter((l) => !l.live);
  if (lapsed.length) {
    intentsCheck.notes.push(
      `${lapsed.length} lapsed lease(s): ${lapsed.map((l) => l.id).join(', ')}` +
        (repair ? ' (removed)' : ''),
    );
    if (repair) await removeLapsedLeases(db, dialect);
  }
  const live = leases.filter((l) => l.live);
  if (live.length) {
    intentsCheck.notes.push(
      `${live.length} live instance(s): ${live.map((l) => `${l.id} until ${when(l.expiresAt)}`).join(', ')}`,
    );
  }

  const temps = check('temp-uploads', 'Temp uploads left by a crash');
  for (const t of stale.temps) {
    const f = found(
      temps,
      'temp_upload',
      t.instance
        ? `temp ${t.tempKey} of instance ${t.instance} (no live lease), written ${when(t.modifiedAt)}`
        : `temp ${t.tempKey} (old key shape), written ${when(t.modifiedAt)}, over a day ago`,
      true,
    );
    if (!repair) continue;
    await storage.discardTemp(t.tempKey);
    f.repaired = true;
  }
  if (stale.inFlight.temps) {
    temps.notes.push(`${stale.inFlight.temps} upload(s) in flight on live instances`);
  }

  // --- resumable uploads past their expiry (the server sweeps them; a stopped one cannot) -----
  const uploads = check('expired-uploads', 'Resumable uploads past their expiry');
  const now = Date.now();
  const expired = await listExpiredUnfinished(db, now, 1000);
  const expiredFindings = expired.map((u) =>
    found(
      uploads,
      'upload_session',
      `upload ${u.id} of user ${u.user_id}, ${u.upload_offset} of ${u.length} bytes, expired ${when(u.expires_at)}`,
      true,
    ),
  );
  if (repair && expired.length) {
    const swept = new Set(await sweepExpiredUploads({ db, storage, lockMs: 60_000 }, now));
    for (const [i, u] of expired.entries())
      if (swept.has(u.id)) expiredFindings[i]!.repaired = true;
  }
  const unfinished = await countLiveUnfinished(db, now);
  if (unfinished) uploads.notes.push(`${unfinished} unfinished upload(s) not yet expired`);

  // --- storage against the blobs table --------------------------------------------------------
  // Listed before intents and rows are read: a commit puts its intent before its object and its
  // row before removing its intent, so an object of a commit in flight shows either an intent or
  // a row here. A deletion removes the row before the object, so a row never outlives a listing
  // that misses its object unless the object really is gone.
  const orphans = check('orphan-blobs', 'Stored objects without a blobs row');
  const missing = check('missing-blobs', 'Blobs rows without a stored object');
  const objects = new Map<string, number>();
  for await (const o of storage.listBlobs()) objects.set(o.sha256, o.size);
  const intentShas = new Set((await listBlobIntents(db)).map((i) => i.sha256));
  for (let after = ''; ;) {
    const rows = await repo.blobRowsAfter(db, after, 1000);
    if (!rows.length) break;
    after = rows[rows.length - 1]!.sha256;
    for (const row of rows) {
      const size = objects.get(row.sha256);
      objects.delete(row.sha256);
      if (size === undefined) {
        const files = await repo.filesOfBlob(db, row.sha256);
        const names = files.map((f) => `${f.id} ${quote(f.name)}`).join(', ');
        found(
          missing,
          'blob_missing',
          `blob ${row.sha256} (${row.size} bytes) is not in storage; file(s) ${names || 'none'} ` +
            'cannot be downloaded: restore the object from a backup, or delete the file(s)',
          false,
        );
      } else if (size !== row.size) {
        found(
          missing,
          'blob_size',
          `blob ${row.sha256}: ${size} bytes stored, ${row.size} recorded: restore it from a backup`,
          false,
        );
      }
    }
  }
  for (const [sha256, size] of objects) {
    // Its intent (stale ones were settled above, in-flight ones are not ours to touch) decides.
    if (intentShas.has(sha256)) continue;
    const f = found(
      orphans,
      'blob_orphan',
      `object ${sha256} (${size} bytes) has no blobs row`,
      true,
    );
    if (!repair) continue;
    // Under the lock no commit of these bytes is in flight (on SQLite only within this process:
    // the CLI refuses --repair while a server runs), so only a row written since counts.
    f.repaired = await withBlobLock(sha256, async (conn) => {
      if (await repo.blobRowExists(conn, sha256)) return false;
      await storage.delete(sha256);
      return true;
    });
  }

  const all = checks.flatMap((c) => c.findings);
  const repaired = all.filter((f) => f.repaired).length;
  return {
    dialect,
    repair,
    checks,
    problems: all.length,
    repaired,
    remaining: all.length - repaired,
  };
}

/** The report for people: one line per check, then each finding (up to 20 per check). */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    const open = c.findings.filter((f) => !f.repaired).length;
    const mark = c.skipped ? '-' : open ? '✗' : '✓';
    const summary = c.findings.length
      ? `${c.findings.length} problem(s)${report.repair ? `, ${c.findings.length - open} repaired` : ''}`
      : c.skipped
        ? 'skipped'
        : 'ok';
    lines.push(`${mark} ${c.title}: ${summary}`);
    for (const note of c.notes) lines.push(`    note: ${note}`);
    for (const f of c.findings.slice(0, 20)) {
      const tag = f.repaired ? 'repaired' : f.repairable ? 'repairable' : 'needs a person';
      lines.push(`    - ${f.message} [${tag}]`);
    }
    if (c.findings.length > 20) lines.push(`    … and ${c.findings.length - 20} more (--json)`);
  }
  lines.push('');
  if (!report.problems) {
    lines.push('No problems found.');
  } else if (report.repair) {
    lines.push(
      `${report.problems} problem(s) found, ${report.repaired} repaired, ${report.remaining} left.`,
    );
  } else {
    const repairable = report.checks.flatMap((c) => c.findings).filter((f) => f.repairable).length;
    lines.push(
      `${report.problems} problem(s) found, ${repairable} repairable: run npm run doctor -- --repair`,
    );
  }
  return lines.join('\n');
}
