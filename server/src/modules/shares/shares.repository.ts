import { sql, type Insertable } from 'kysely';
import type { Db, Executor, FileRow, ShareLinkRow, ShareLinksTable } from '../../db/database.js';
import { allOrNone } from '../../db/all-or-none.js';
import { listing } from '../../db/listing.js';
import { rowsByIds } from '../../db/rows.js';
import { containsText } from '../../db/text-search.js';
import { NotFoundError } from '../../errors.js';
import {
  recordFileDownloads,
  uncountFileDownloads,
  type RecordedDownload,
} from '../downloads/downloads.repository.js';

// All SQL of share links: the links, their files, and the downloads made through them.

/** A link with what decides whether it still works: its creator's ban. */
export interface ShareLinkWithCreator {
  link: ShareLinkRow;
  /** Null when the creator's account is gone. */
  creatorBanned: boolean | null;
  creatorName: string | null;
}

export type ShareLinkState = 'WORKING' | 'STOPPED';

export interface ShareLinkFilter {
  createdBy?: number | null;
  fileId?: number | null;
  /** With `now` (ms): links that work at that moment, or those that do not. */
  state?: ShareLinkState | null;
  now?: number;
  /** Case-insensitive substring of the note or of a file name of the link. */
  query?: string | null;
  /** The query looks only at ACTIVE files' names (for those who do not see HIDDEN ones). */
  activeFilesOnly?: boolean;
}

/**
 * Inserts a link and its files (in the given order) in one transaction; `also` runs in it too
 * (the audit event), so the link and its record commit together or not at all.
 */
export async function insertShareLink(
  db: Db,
  link: Insertable<ShareLinksTable>,
  fileIds: readonly number[],
  also: (trx: Executor, row: ShareLinkRow) => Promise<void>,
): Promise<ShareLinkRow> {
  try {
    return await insertShareLinkRows(db, link, fileIds, also);
  } catch (err) {
    // A file deleted between the caller's check and this insert: the link's file row has no
    // file to point at any more (23503 on PostgreSQL, SQLITE_CONSTRAINT_FOREIGNKEY on SQLite).
    const code = (err as { code?: unknown }).code;
    if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      throw new NotFoundError('No such file.');
    }
    throw err;
  }
}

function insertShareLinkRows(
  db: Db,
  link: Insertable<ShareLinksTable>,
  fileIds: readonly number[],
  also: (trx: Executor, row: ShareLinkRow) => Promise<void>,
): Promise<ShareLinkRow> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('share_links')
      .values(link)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('share_link_files')
      .values(fileIds.map((fileId, position) => ({ link_id: row.id, file_id: fileId, position })))
      .execute();
    await also(trx, row);
    return row;
  });
}

export async function findShareLinkByTokenHash(
  db: Executor,
  tokenHash: string,
): Promise<ShareLinkWithCreator | null> {
  const row = await db
    .selectFrom('share_links as l')
    .leftJoin('users as u', 'u.id', 'l.created_by')
    .selectAll('l')
    .select(['u.banned as creator_banned', 'u.name as creator_name'])
    .where('l.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return null;
  const { creator_banned, creator_name, ...link } = row;
  return {
    link,
    creatorBanned: creator_banned == null ? null : creator_banned === 1,
    creatorName: creator_name ?? null,
  };
}

export const findShareLinksByIds = (
  db: Executor,
  ids: readonly number[],
): Promise<ShareLinkRow[]> => rowsByIds(db, 'share_links', ids);

/**
 * The link's files that still exist, in the link's order; with `activeOnly`, HIDDEN ones are left
 * out (what the recipient, and a USER creator, may see).
 */
export async function filesOfShareLink(
  db: Executor,
  linkId: number,
  activeOnly: boolean,
): Promise<FileRow[]> {
  let q = db
    .selectFrom('share_link_files as s')
    .innerJoin('files as f', 'f.id', 's.file_id')
    .selectAll('f')
    .where('s.link_id', '=', linkId);
  if (activeOnly) q = q.where('f.status', '=', 'ACTIVE');
  return q.orderBy('s.position').execute();
}

/**
 * Whether the link `l` works at `now`: the same test as the service's `usable`, as SQL (not
 * revoked, not expired, not used up, creator present and not banned, at least one ACTIVE file
 * left). The `state` filter and the `ShareLink.state` field both use it, so they never disagree.
 */
const linkWorks = (now: number) => sql<boolean>`(l.revoked_at is null
      and (l.expires_at is null or l.expires_at > ${now})
      and (l.max_downloads is null or l.download_count < l.max_downloads)
      and exists (select 1 from users u where u.id = l.created_by and u.banned = 0)
      and exists (select 1 from share_link_files s join files f on f.id = s.file_id
        where s.link_id = l.id and f.status = 'ACTIVE'))`;

/** The state of each link among `ids` at `now`, by id (ids of no link are left out). */
export async function shareLinkStates(
  db: Executor,
  ids: readonly number[],
  now: number,
): Promise<Map<number, ShareLinkState>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('share_links as l')
    .select(['l.id', sql<number>`case when ${linkWorks(now)} then 1 else 0 end`.as('works')])
    .where('l.id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, Number(r.works) === 1 ? 'WORKING' : 'STOPPED']));
}

function filtered(db: Executor, filter: ShareLinkFilter) {
  let q = db.selectFrom('share_links as l');
  if (filter.createdBy != null) q = q.where('l.created_by', '=', filter.createdBy);
  if (filter.fileId != null) {
    // The file's links, read once off share_link_files' file_id index.
    q = q.where(
      'l.id',
      'in',
      db.selectFrom('share_link_files').select('link_id').where('file_id', '=', filter.fileId),
    );
  }
  if (filter.state) {
    const works = linkWorks(filter.now ?? Date.now());
    q = q.where(filter.state === 'WORKING' ? works : sql<boolean>`not ${works}`);
  }
  if (filter.query) {
    const query = filter.query;
    q = q.where(({ or, exists, selectFrom }) =>
      or([
        containsText(sql<string>`coalesce(l.note, '')`, query),
        exists(
          selectFrom('share_link_files as s')
            .innerJoin('files as f', 'f.id', 's.file_id')
            .select(sql.lit(1).as('one'))
            .whereRef('s.link_id', '=', 'l.id')
            .where(containsText(sql.ref<string>('f.name'), query))
            .$if(filter.activeFilesOnly === true, (sub) => sub.where('f.status', '=', 'ACTIVE')),
        ),
      ]),
    );
  }
  return q;
}

/** The links a page at a time, newest first. */
export const shareLinkListing = listing(filtered, (q) =>
  q.selectAll('l').orderBy('l.created_at', 'desc').orderBy('l.id', 'desc'),
);

/**
 * Marks the link revoked, once (a second revocation keeps the first time); `also` runs in the
 * same transaction when this call revoked it.
 */
export async function revokeShareLinkRow(
  db: Db,
  id: number,
  at: number,
  also: (trx: Executor) => Promise<void>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable('share_links')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (revoked) await also(trx);
  });
}

/** Counts one opening of the link's share page at `at`. */
export async function recordShareView(db: Db, id: number, at: number): Promise<void> {
  await db
    .updateTable('share_links')
    .set({
      view_count: sql<number>`view_count + 1`,
      last_viewed_at: sql<number>`case when last_viewed_at is null or last_viewed_at < ${at}
        then ${at} else last_viewed_at end`,
    })
    .where('id', '=', id)
    .execute();
}

/**
 * Records downloads of `fileIds` (one row each, `user_id` null) through a link, or nothing at all.
 * The link's counter goes first, by a conditional UPDATE that only passes while the link is not
 * revoked or expired and has room for all of them: concurrent downloads through any number of
 * instances can never take it past `max_downloads` (SQLite runs one writer at a time; PostgreSQL
 * re-checks the WHERE on the newest row version after waiting for the row lock). Then each file's
 * counter (its tags' follow by trigger) and history row, as downloads.repository.ts does; files in
 * id order, per db/lock-order.ts. The history rows written, or null, with nothing written, when
 * the link has no room or a file went away meanwhile.
 */
export const recordShareDownloads = (
  db: Db,
  download: { linkId: number; fileIds: readonly number[]; at: number },
): Promise<RecordedDownload[] | null> =>
  allOrNone(db, async (trx) => {
    const n = download.fileIds.length;
    const link = await trx
      .updateTable('share_links')
      .set({
        download_count: sql<number>`download_count + ${n}`,
        last_used_at: sql<number>`case when last_used_at is null
          or last_used_at < ${download.at} then ${download.at} else last_used_at end`,
      })
      .where('id', '=', download.linkId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', download.at)]))
      .where((eb) =>
        eb.or([
          eb('max_downloads', 'is', null),
          eb(sql<number>`download_count + ${n}`, '<=', eb.ref('max_downloads')),
        ]),
      )
      .returning('id')
      .executeTakeFirst();
    if (!link) return null;
    const by = { user_id: null, share_link_id: download.linkId };
    return recordFileDownloads(trx, { ...download, activeOnly: true, by });
  });

/**
 * Takes back downloads recorded through a link that never happened (a ZIP whose later files
 * could not be read): their history rows go (with them, by trigger, the hourly and rolled-up
 * counts), and the link's and each file's counter drop by as much, in one transaction and in
 * the lock order of `recordShareDownloads`. The last-use times are set again from the rows that
 * remain, so none names a download that did not take place.
 */
export async function releaseShareDownloads(
  db: Db,
  release: { linkId: number; downloads: readonly RecordedDownload[] },
): Promise<void> {
  if (release.downloads.length === 0) return;
  const ids = release.downloads.map((d) => d.id);
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('share_links')
      .set({
        download_count: sql<number>`download_count - ${ids.length}`,
        last_used_at: sql<number | null>`(select max(d.at) from downloads d
          where d.share_link_id = ${release.linkId} and d.id not in (${sql.join(ids)}))`,
      })
      .where('id', '=', release.linkId)
      .execute();
    await uncountFileDownloads(trx, release.downloads);
  });
}
