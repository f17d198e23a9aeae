import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Dialect } from '../../db/connection.js';
import type { Db, FileRow, ShareLinkRow } from '../../db/database.js';
import { retryOnDeadlock } from '../../db/lock-order.js';
import {
  AppError,
  BadUserInputError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
} from '../../errors.js';
import { hashToken } from '../../secrets.js';
import { codePoints, noControlCharacters, parseInput } from '../../validation.js';
import { hashPassword, verifyDummy, verifyPassword } from '../auth/password.js';
import { addressKey, type LimiterFactory } from '../auth/rate-limit.js';
import { audit, type Actor } from '../audit/audit.service.js';
import type { Viewer } from '../auth/viewer.js';
import { isAdmin, mayChangeFile, seesHiddenFiles } from '../auth/visibility.js';
import { findFilesByIds } from '../files/files.repository.js';
import {
  filesOfShareLink,
  findShareLinkByTokenHash,
  findShareLinksByIds,
  insertShareLink,
  recordShareDownloads,
  recordShareView,
  releaseShareDownloads,
  revokeShareLinkRow,
  shareLinkListing,
  shareLinkStates,
  type ShareLinkFilter,
  type ShareLinkState,
  type ShareLinkWithCreator,
} from './shares.repository.js';
import type { RecordedDownload } from '../downloads/downloads.repository.js';

/** A link's files are at most this many (a ZIP of them is one request). */
export const MAX_SHARE_FILES = 1000;
/** How long a proof of a link's password lasts. */
export const PROOF_TTL_MS = 30 * 60 * 1000;
/** Wrong passwords allowed per link and client address, and per link from everywhere, per window. */
export const GUESSES_PER_ADDRESS = 10;
export const GUESSES_PER_LINK = 100;
const GUESS_WINDOW_S = 15 * 60;
/** A client address opening a link's page again within this many seconds is not a new view. */
const VIEW_WINDOW_S = 30 * 60;

/**
 * FORBIDDEN with `extensions.passwordRequired: true`: the link needs its password (none was
 * given, or a wrong one).
 */
export class PasswordRequiredError extends ForbiddenError {
  constructor(message = 'This link needs its password.') {
    super(message);
  }
  override extensions(): Record<string, unknown> {
    return { code: this.code, passwordRequired: true };
  }
}

export interface CreateShareInput {
  fileIds: readonly number[];
  expiresAt?: Date | null;
  password?: string | null;
  maxDownloads?: number | null;
  note?: string | null;
}

/** Longest `query` of `shareLinks`, in code points. */
export const MAX_LINK_QUERY = 200;

const listInput = z.object({
  query: noControlCharacters()
    .refine((v) => codePoints(v) <= MAX_LINK_QUERY, `must be at most ${MAX_LINK_QUERY} characters`)
    .transform((v) => v.trim())
    .nullish(),
});

/** A link the recipient may use now, with the files they may download through it. */
export interface OpenShare {
  link: ShareLinkRow;
  token: string;
  sharedBy: string;
  files: FileRow[];
  /** Null when the link has no limit. */
  downloadsLeft: number | null;
  /** The proof to carry in download URLs (`key=`) when the link has a password. */
  proof: string | null;
}

/**
 * Whether the link shows its files in place (`/s/:token/files/:id/preview`). A preview hands the
 * whole file over uncounted, so a link that counts its downloads offers thumbnails only: else its
 * limit would mean nothing.
 */
export const offersPreviews = (share: OpenShare) => share.downloadsLeft === null;

const createInput = z.object({
  fileIds: z
    .array(z.number())
    .min(1, 'must name at least one file')
    .max(MAX_SHARE_FILES, `must name at most ${MAX_SHARE_FILES} files`)
    .refine((ids) => new Set(ids).size === ids.length, 'must not name a file twice'),
  expiresAt: z
    .date()
    .nullish()
    .refine((d) => d == null || d.getTime() > Date.now(), 'must be in the future'),
  password: z
    .string()
    .min(4, 'must be at least 4 characters')
    .max(256, 'must be at most 256 characters')
    .nullish(),
  maxDownloads: z
    .number()
    .int()
    .min(1, 'must be at least 1')
    .max(1_000_000, 'must be at most 1000000')
    .nullish(),
  // Newlines are welcome in a note; other control characters are not.
  note: z
    .string()
    .trim()
    .max(1000, 'must be at most 1000 characters')
    .refine(
      (v) => !/[^\P{Cc}\n]/u.test(v.replace(/\r\n/g, '\n')),
      'must not contain control characters',
    )
    .transform((v) => v.replace(/\r\n/g, '\n') || null)
    .nullish(),
});

/** Whether the viewer may read and revoke this link: its creator or an admin. */
export const mayManage = (viewer: Viewer | null, link: ShareLinkRow) =>
  viewer !== null && (isAdmin(viewer) || link.created_by === viewer.user.id);

/** A token that can name a link (what `create` makes); others never work. */
const plausibleToken = (token: string) => /^[A-Za-z0-9_-]{20,64}$/.test(token);

function sign(link: ShareLinkRow, expires: number): string {
  return createHmac('sha256', Buffer.from(link.proof_key, 'hex'))
    .update(`${link.id}.${expires}`)
    .digest('base64url');
}

/** `<expiry ms>.<HMAC>`: proves the password of this one link until the expiry. */
function makeProof(link: ShareLinkRow, now: number): string {
  const expires = now + PROOF_TTL_MS;
  return `${expires}.${sign(link, expires)}`;
}

function checkProof(link: ShareLinkRow, proof: string | null | undefined, now: number): boolean {
  const match = /^(\d{13,15})\.([A-Za-z0-9_-]{43})$/.exec(proof ?? '');
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires <= now || expires > now + PROOF_TTL_MS) return false;
  return timingSafeEqual(Buffer.from(match[2]!), Buffer.from(sign(link, expires)));
}

export function createSharesService(deps: {
  db: Db;
  dialect: Dialect;
  limiterFactory: LimiterFactory;
  /** Cookies get `Secure` (PUBLIC_ORIGIN is https). */
  secure: boolean;
}) {
  const { db } = deps;
  const byAddress = deps.limiterFactory({ keyPrefix: 'share_pw_addr', duration: GUESS_WINDOW_S });
  const byLink = deps.limiterFactory({ keyPrefix: 'share_pw_link', duration: GUESS_WINDOW_S });
  const viewsByAddress = deps.limiterFactory({ keyPrefix: 'share_view', duration: VIEW_WINDOW_S });

  /**
   * The link behind `token` if it works now: well-formed, known, not revoked, not expired, not
   * used up, its creator present and not banned, and at least one of its files still ACTIVE.
   * Every other case is null, alike, so a recipient learns nothing of why (nor whether it ever
   * existed). And alike in work too: every token, even a malformed one, costs the same two
   * queries (the link by the token's hash, then its ACTIVE files, of link 0 when there is none)
   * before any condition is looked at, so no kind of token that does not work answers sooner
   * than another. The callers add the same for a password (`openPublic`: one argon2 verification
   * against a dummy hash). shares.test.ts checks that every kind gets the same bytes.
   */
  async function usable(
    token: string,
    now: number,
  ): Promise<{ found: ShareLinkWithCreator; files: FileRow[] } | null> {
    const found = await findShareLinkByTokenHash(db, hashToken(token));
    const files = await filesOfShareLink(db, found?.link.id ?? 0, true);
    const works =
      plausibleToken(token) &&
      found !== null &&
      found.link.revoked_at === null &&
      (found.link.expires_at === null || found.link.expires_at > now) &&
      (found.link.max_downloads === null || found.link.download_count < found.link.max_downloads) &&
      found.creatorBanned === false &&
      files.length > 0;
    return works ? { found, files } : null;
  }

  const open = (
    found: ShareLinkWithCreator,
    token: string,
    files: FileRow[],
    proof: string | null,
  ): OpenShare => ({
    link: found.link,
    token,
    sharedBy: found.creatorName ?? '',
    files,
    downloadsLeft:
      found.link.max_downloads === null
        ? null
        : Math.max(0, found.link.max_downloads - found.link.download_count),
    proof,
  });

  /**
   * The page of a link was shown to `address`: a view, unless that address had one of this link
   * in the window (a reload, a second tab). The window also keeps a flood of requests from
   * turning into as many writes of the link's row (on PostgreSQL the window itself is one upsert
   * a request, as a password guess's is).
   */
  async function shown(share: OpenShare, address: string, now: number): Promise<OpenShare> {
    const window = await viewsByAddress.add(`${share.link.id}|${addressKey(address)}`);
    if (window.points === 1) await recordShareView(db, share.link.id, now);
    return share;
  }

  /** Counts one guess; throws RATE_LIMITED past either limit. */
  async function countGuess(linkId: number, address: string) {
    const [mine, all] = await Promise.all([
      byAddress.add(`${linkId}|${addressKey(address)}`),
      byLink.add(String(linkId)),
    ]);
    const over =
      mine.points > GUESSES_PER_ADDRESS ? mine : all.points > GUESSES_PER_LINK ? all : null;
    if (over) throw new RateLimitedError(Math.max(1, Math.ceil(over.msLeft / 1000)));
  }

  return {
    async create(viewer: Viewer, input: CreateShareInput, actor: Actor): Promise<ShareLinkRow> {
      const data = parseInput(createInput, input);
      const files = await findFilesByIds(db, data.fileIds, !seesHiddenFiles(viewer));
      if (files.length !== data.fileIds.length) throw new NotFoundError('No such file.');
      if (files.some((f) => f.status !== 'ACTIVE')) {
        throw BadUserInputError.field('fileIds', 'must name ACTIVE files only');
      }
      if (files.some((f) => !mayChangeFile(viewer, f))) {
        throw new ForbiddenError('You may share only files you uploaded.');
      }
      const token = randomBytes(24).toString('base64url'); // 192 random bits
      return insertShareLink(
        db,
        {
          token,
          token_hash: hashToken(token),
          proof_key: randomBytes(32).toString('hex'),
          created_by: viewer.user.id,
          created_at: Date.now(),
          expires_at: data.expiresAt?.getTime() ?? null,
          password_hash: data.password ? await hashPassword(data.password) : null,
          max_downloads: data.maxDownloads ?? null,
          note: data.note ?? null,
        },
        data.fileIds,
        (trx, row) =>
          audit.record(trx, {
            actor,
            action: 'share.create',
            target: {
              type: 'share',
              id: row.id,
              label: files
                .map((f) => f.name)
                .join(', ')
                .slice(0, 200),
            },
            details: {
              fileIds: data.fileIds,
              expiresAt: row.expires_at,
              hasPassword: row.password_hash !== null,
              maxDownloads: row.max_downloads,
            },
            at: row.created_at,
          }),
      );
    },

    async revoke(viewer: Viewer, id: number, actor: Actor): Promise<boolean> {
      const [link] = await findShareLinksByIds(db, [id]);
      if (!link || !mayManage(viewer, link)) throw new NotFoundError('No such share link.');
      const at = Date.now();
      await revokeShareLinkRow(db, id, at, (trx) =>
        audit.record(trx, {
          actor,
          action: 'share.revoke',
          target: { type: 'share', id, label: null },
          details: { createdBy: link.created_by, downloadCount: link.download_count },
          at,
        }),
      );
      return true;
    },

    /** The links the viewer may manage among `ids` (for the loader). */
    async visibleByIds(viewer: Viewer | null, ids: readonly number[]) {
      const rows = await findShareLinksByIds(db, ids);
      return rows.filter((l) => mayManage(viewer, l));
    },

    /**
     * The viewer's own links, or with `all` (admins only) everyone's, or with `createdBy` (admins
     * only) one user's; narrowed by `state` and `query`.
     */
    listFilter(
      viewer: Viewer,
      args: {
        all?: boolean | null;
        fileId?: number | null;
        createdBy?: number | null;
        state?: ShareLinkState | null;
        query?: string | null;
      },
    ): ShareLinkFilter {
      if ((args.all || args.createdBy != null) && !isAdmin(viewer))
        throw new ForbiddenError('Only an admin may list other users’ links.');
      const { query } = parseInput(listInput, { query: args.query });
      return {
        createdBy: args.createdBy ?? (args.all ? null : viewer.user.id),
        fileId: args.fileId ?? null,
        state: args.state ?? null,
        now: Date.now(),
        query: query || null,
        activeFilesOnly: !seesHiddenFiles(viewer),
      };
    },
    /** Whether each link works now (`ShareLink.state`), by the same test as the `state` filter. */
    async states(ids: readonly number[]): Promise<ShareLinkState[]> {
      const found = await shareLinkStates(db, ids, Date.now());
      // The loader only asks for links it has loaded; one deleted meanwhile works no more.
      return ids.map((id) => found.get(id) ?? 'STOPPED');
    },
    list: (filter: ShareLinkFilter, limit: number, offset: number) =>
      shareLinkListing.list(db, filter, limit, offset),
    count: (filter: ShareLinkFilter) => shareLinkListing.count(db, filter),

    /** The link's files as its manager sees them: admins every one left, others ACTIVE ones. */
    filesOf: (viewer: Viewer | null, link: ShareLinkRow) =>
      filesOfShareLink(db, link.id, !seesHiddenFiles(viewer)),

    /**
     * What a recipient sees (`share(token, password)`): null for a link that does not work; for
     * one with a password, PasswordRequiredError until the right one (guesses rate-limited per
     * link and address, counted before checking so simultaneous guesses cannot slip through).
     */
    async openPublic(
      token: string,
      password: string | null | undefined,
      proof: string | null,
      address: string,
    ): Promise<OpenShare | null> {
      const now = Date.now();
      const found = await usable(token, now);
      if (!found) {
        // As slow as a wrong password, so a guessed token learns nothing from the time either.
        if (password) await verifyDummy(password.slice(0, 256));
        return null;
      }
      const { link } = found.found;
      if (link.password_hash === null) {
        return shown(open(found.found, token, found.files, null), address, now);
      }
      if (password == null) {
        if (checkProof(link, proof, now)) {
          return shown(open(found.found, token, found.files, proof), address, now);
        }
        throw new PasswordRequiredError();
      }
      await countGuess(link.id, address);
      // A password too long to be right still costs one verification, as every other guess.
      const ok =
        password.length <= 256
          ? await verifyPassword(link.password_hash, password)
          : await verifyDummy(password.slice(0, 256)).then(() => false);
      if (!ok) throw new PasswordRequiredError('The password is wrong.');
      return shown(open(found.found, token, found.files, makeProof(link, now)), address, now);
    },

    /**
     * For the `/s/:token` routes: the link and its files when it works now and, for one with a
     * password, `proof` holds; else the AppError to answer with (404 alike for every link that
     * does not work, 403 for a missing or stale proof).
     */
    async openForDownload(token: string, proof: string | null): Promise<OpenShare | AppError> {
      const now = Date.now();
      const found = await usable(token, now);
      if (!found) return new NotFoundError('This link does not work (any more).');
      const { link } = found.found;
      if (link.password_hash !== null && !checkProof(link, proof, now)) {
        return new PasswordRequiredError();
      }
      return open(found.found, token, found.files, proof);
    },

    /**
     * Counts downloads of `fileIds` through the link: the history rows written, or null when it
     * has no room left for them (or a file went away meanwhile).
     */
    recordDownloads: (linkId: number, fileIds: readonly number[], at = Date.now()) =>
      retryOnDeadlock(deps.dialect, () => recordShareDownloads(db, { linkId, fileIds, at })),

    /** Takes back recorded downloads whose bytes were never sent (a ZIP cut by storage). */
    releaseDownloads: (linkId: number, downloads: readonly RecordedDownload[]) =>
      retryOnDeadlock(deps.dialect, () => releaseShareDownloads(db, { linkId, downloads })),

    proofCookie(token: string, proof: string): string {
      return [
        `${PROOF_COOKIE}=${proof}`,
        `Path=/s/${token}`,
        `Max-Age=${PROOF_TTL_MS / 1000}`,
        'HttpOnly',
        'SameSite=Lax',
        ...(deps.secure ? ['Secure'] : []),
      ].join('; ');
    },
  };
}

/** The cookie carrying a password proof, scoped by its path to the one link. */
export const PROOF_COOKIE = 'cabinet_share';

export type SharesService = ReturnType<typeof createSharesService>;
