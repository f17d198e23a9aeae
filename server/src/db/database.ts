import type {
  ColumnType,
  Generated,
  Insertable,
  Kysely,
  Selectable,
  Transaction,
  Updateable,
} from 'kysely';

// The tables as the migrations create them. Timestamps are epoch milliseconds; booleans 0/1.

type Id = Generated<number>;

/** A column with a database default: optional on insert (Kysely's Generated covers defaults). */
type Defaulted<T> = Generated<T>;

/** Columns that all have a database default. */
type AllDefaulted<Columns> = { [C in keyof Columns]: Defaulted<Columns[C]> };

/** A column only the database writes (triggers, generated columns): read, never written. */
type DbWritten<T> = ColumnType<T, never, never>;

export interface UsersTable {
  id: Id;
  email: string;
  name: string;
  /** sortKey(name) (db/sort-key.ts), for the NAME order; written with `name`. */
  name_sort: string;
  password_hash: string;
  role: 'USER' | 'ADMIN';
  banned: Defaulted<number>;
  created_at: number;
  last_active_at: number | null;
  /** Kept by triggers (migration 2026-12-03T0220_upload_counts): the user's files, ACTIVE and HIDDEN. */
  upload_count: Defaulted<number>;
  /** Kept by the same triggers: how many of those files are HIDDEN. */
  uploads_hidden: DbWritten<number>;
  download_count: Defaulted<number>;
  /** The user's own quota in bytes; null: DEFAULT_QUOTA_BYTES. */
  quota_bytes: Defaulted<number | null>;
  /** Kept by triggers (migration 2026-12-04T0300b_trash_quotas): sizes of the user's files, trash included. */
  used_bytes: DbWritten<number>;
  /** Base32 TOTP secret once two-factor is confirmed (migration 2026-12-04T0400_2_totp). */
  totp_secret: Defaulted<string | null>;
  /** A secret handed out by startTotpSetup, not yet confirmed by a code. */
  totp_pending: Defaulted<string | null>;
  /** The time step of the last accepted code: a code is never accepted twice. */
  totp_last_step: Defaulted<number | null>;
}

/** A passkey (WebAuthn credential) of a user (migration 2026-12-04T0400_3_passkeys). */
export interface PasskeysTable {
  /** The credential id, base64url. */
  id: string;
  user_id: number;
  name: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** Comma-separated authenticator transports, as the browser reported them. */
  transports: string | null;
  created_at: number;
  last_used_at: number | null;
}

/** A challenge handed out by the start of a WebAuthn ceremony; deleted when used. */
export interface WebauthnChallengesTable {
  challenge: string;
  kind: 'register' | 'login';
  /** The registering user; null for sign-in (the passkey names its user). */
  user_id: number | null;
  expires_at: number;
}

/** A single-use two-factor recovery code, stored as its SHA-256. */
export interface RecoveryCodesTable {
  user_id: number;
  code_hash: string;
}

/**
 * What a session keeps besides its id, user and times: lucia's attributes of a session
 * (auth/sessions.ts), stored in the sessions columns of the same names (migration
 * 2026-12-04T0400_1), each with a default.
 */
export interface SessionAttributes {
  /** The User-Agent header the session was started with. */
  user_agent: string | null;
  /** The client address the session was started from. */
  address: string | null;
  /** Written at most once a minute while the session is used. */
  last_active_at: number | null;
}

export interface SessionsTable extends AllDefaulted<SessionAttributes> {
  id: string;
  user_id: number;
  expires_at: number;
  created_at: number;
}

/** An admin-made one-time password-reset link; only its token's SHA-256 is kept. */
export interface PasswordResetsTable {
  token_hash: string;
  user_id: number;
  created_by: number | null;
  created_at: number;
  expires_at: number;
}

export interface ApiTokensTable {
  id: Id;
  user_id: number;
  name: string;
  token_hash: string;
  /** Comma-separated ApiScope values. */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

export interface BlobsTable {
  sha256: string;
  size: number;
  ref_count: number;
  created_at: number;
}

export type FileStatus = 'ACTIVE' | 'HIDDEN';

export interface FilesTable {
  id: Id;
  name: string;
  /** sortKey(name) (db/sort-key.ts), for the NAME order; written with `name`. */
  name_sort: string;
  original_name: string;
  size: number;
  mime_type: string;
  sha256: string;
  status: Defaulted<FileStatus>;
  uploaded_by: number | null;
  created_at: number;
  updated_at: number;
  download_count: Defaulted<number>;
  last_downloaded_at: number | null;
}

export interface TagsTable {
  id: Id;
  name: string;
  name_key: string;
  /** sortKey(name) (db/sort-key.ts), for the NAME order; written with `name`. */
  name_sort: string;
  created_at: number;
  // Kept by triggers (migration 2026-11-25T1100_search): files carrying the tag, by status, and
  // the sum of those files' download counts.
  files_active: DbWritten<number>;
  files_hidden: DbWritten<number>;
  downloads_active: DbWritten<number>;
  downloads_hidden: DbWritten<number>;
  /** Bumped by triggers when the tag's set of ACTIVE or HIDDEN files changes (search/postings.ts). */
  links_version: DbWritten<number>;
}

/** Files per status, kept by triggers. */
export interface FileTotalsTable {
  status: FileStatus;
  files: DbWritten<number>;
}

/** Downloads per UTC hour (epoch ms of the hour's start), kept by triggers. */
export interface DownloadHoursTable {
  hour: number;
  downloads: number;
}

/** What a download rollup row counts downloads of. */
export type RollupKind = 'file' | 'user' | 'tag';

/** Downloads per UTC day (epoch ms of its start) of one file, user or tag, kept by triggers. */
export interface DownloadDaysTable {
  kind: RollupKind;
  id: number;
  day: number;
  downloads: number;
}

/** All-time downloads of one file, user or tag, kept by triggers. */
export interface DownloadTotalsTable {
  kind: RollupKind;
  id: number;
  downloads: number;
}

/** A file in the trash (migration 2026-12-04T0300b_trash_quotas): its files row as it was, plus… */
export interface TrashedFilesTable extends Omit<FilesTable, 'id' | 'status' | 'download_count'> {
  id: number;
  status: FileStatus;
  download_count: number;
  deleted_at: number;
  deleted_by: number | null;
  /** JSON array of the ids of the tags it carried. */
  tag_ids: string;
}

export interface FileTagsTable {
  file_id: number;
  tag_id: number;
  /** 1 while the file is ACTIVE; kept by triggers (migration 2026-11-25T1200_tag_links_active). */
  active: DbWritten<number>;
}

export interface DownloadsTable {
  id: Id;
  /**
   * The file, in `files` or, while it is in the trash, in `trashed_files` (no foreign key for
   * that reason); null once it is deleted for good.
   */
  file_id: number | null;
  file_name: string;
  user_id: number | null;
  at: number;
  /** The share link a download came through (its user_id is null); null for signed-in ones. */
  share_link_id: Defaulted<number | null>;
}

/** A share link (migration 2026-12-04T0100_share_links, modules/shares). */
export interface ShareLinksTable {
  id: Id;
  /** The secret of `/s/<token>`, kept so its creator can copy the URL again. */
  token: string;
  token_hash: string;
  /** Hex key signing the link's password proofs. */
  proof_key: string;
  created_by: number | null;
  created_at: number;
  expires_at: number | null;
  password_hash: string | null;
  max_downloads: number | null;
  download_count: Defaulted<number>;
  last_used_at: number | null;
  /** Openings of its share page, one per client address every 30 minutes. */
  view_count: Defaulted<number>;
  last_viewed_at: number | null;
  revoked_at: number | null;
  note: string | null;
}

export interface ShareLinkFilesTable {
  link_id: number;
  file_id: number;
  /** The file's place in the link, as given at creation. */
  position: number;
}

/** One running server process's lease (migration 2026-12-01T0900_instance_leases). */
export interface InstancesTable {
  /** 16 hex characters; also the first part of the process's temp keys. */
  id: string;
  started_at: number;
  heartbeat_at: number;
  /** Past this (database clock, epoch ms) without renewal the process counts as crashed. */
  expires_at: number;
}

/** A blob an instance is committing to storage; gone once the database transaction settled. */
export interface BlobIntentsTable {
  instance_id: string;
  sha256: string;
  created_at: number;
}

/**
 * Files whose name, status or uploader changed, or that came or went (epoch ms `at`), written by
 * triggers only (migration 2026-12-03T0200_search_name_changes; search/short-names.ts reads it).
 */
export interface FileNameChangesTable {
  seq: DbWritten<number>;
  file_id: DbWritten<number>;
  at: DbWritten<number>;
}

/** A resumable upload (migration 2026-12-03T0240_upload_sessions, modules/uploads). */
export interface UploadSessionsTable {
  /** 32 hex characters, the `/uploads/:id` of the tus protocol. */
  id: string;
  user_id: number;
  /** Upload-Metadata as given: the original name, and the optional name, tags (JSON), status. */
  filename: string;
  name: string | null;
  tags: string | null;
  status: FileStatus | null;
  length: number;
  upload_offset: number;
  temp_key: string;
  /** The storage driver's partial-object state (storage.ts, PartialObject). */
  storage_state: string;
  /** Base64 of the saved SHA-256 state over the first `upload_offset` bytes; null before any. */
  hash_state: string | null;
  /** Base64 of the first bytes (up to 4 KiB), for sniffing the type at completion. */
  head: string;
  /** Set once complete: the file it became. */
  file_id: number | null;
  created_at: number;
  expires_at: number;
  lock_token: string | null;
  locked_until: number | null;
}

/** One audit log entry (migration 2026-12-04T0300a_audit_events, modules/audit); never updated. */
export interface AuditEventsTable {
  id: Id;
  at: number;
  /** Who acted; null for an anonymous caller (a failed sign-in) or the server itself. */
  actor_id: number | null;
  /** The actor's email at that moment, or what an anonymous caller claimed to be. */
  actor_label: string;
  /** `user.ban`, `file.delete`, … (audit/actions.ts). */
  action: string;
  /**
   * The action's part before the dot (`user`), computed by the database from `action`
   * (migration 2026-12-05T0100d_audit_family): never written.
   */
  family: DbWritten<string>;
  target_type: string | null;
  target_id: string | null;
  /** What the target was called at that moment (a user's email, a file's or tag's name). */
  target_label: string | null;
  address: string | null;
  /** JSON text: before/after values and other facts of the event. */
  details: string | null;
}

/**
 * Audit events per UTC day and action, in all (actor_id 0) and per actor, kept by triggers
 * (migration 2026-12-05T0100d_audit_family); auditEvents counts whole days here.
 */
export interface AuditDaysTable {
  actor_id: number;
  action: string;
  /** The day's first millisecond (UTC). */
  day: number;
  events: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  blobs: BlobsTable;
  files: FilesTable;
  tags: TagsTable;
  file_tags: FileTagsTable;
  downloads: DownloadsTable;
  file_totals: FileTotalsTable;
  file_name_changes: FileNameChangesTable;
  download_hours: DownloadHoursTable;
  download_days: DownloadDaysTable;
  download_totals: DownloadTotalsTable;
  instances: InstancesTable;
  blob_intents: BlobIntentsTable;
  upload_sessions: UploadSessionsTable;
  password_resets: PasswordResetsTable;
  recovery_codes: RecoveryCodesTable;
  passkeys: PasskeysTable;
  oidc_identities: OidcIdentitiesTable;
  oidc_logins: OidcLoginsTable;
  webauthn_challenges: WebauthnChallengesTable;
  audit_events: AuditEventsTable;
  audit_days: AuditDaysTable;
  share_links: ShareLinksTable;
  share_link_files: ShareLinkFilesTable;
  trashed_files: TrashedFilesTable;
  derived_objects: DerivedObjectsTable;
}

/**
 * A derived object (a thumbnail) of a blob, or the memory that none can be made (migration
 * 2026-12-04T0200_previews, modules/previews).
 */
export interface DerivedObjectsTable {
  sha256: string;
  size: number;
  /** `thumb256`, `thumb1024` (previews.service.ts). */
  variant: string;
  state: 'pending' | 'ready' | 'none';
  /** Random token of the instance making it while `pending`. */
  claim: string | null;
  /** A `pending` claim lapses then (epoch ms): its maker is taken to have died. */
  claimed_until: number | null;
  /** Size of the stored object when `ready`. */
  bytes: number | null;
  /** Why none could be made (logs and the doctor; never shown to users). */
  reason: string | null;
  updated_at: number;
}

export type Db = Kysely<Database>;
/** A connection or a transaction: repository functions take either as their first argument. */
export type Executor = Kysely<Database> | Transaction<Database>;

export type UserRow = Selectable<UsersTable>;
/** A new user; its name_sort is derived from the name by users.repository.ts. */
export type NewUser = Omit<Insertable<UsersTable>, 'name_sort'>;
export type UserUpdate = Updateable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type PasskeyRow = Selectable<PasskeysTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type FileRow = Selectable<FilesTable>;
export type TagRow = Selectable<TagsTable>;
export type DownloadRow = Selectable<DownloadsTable>;
export type UploadSessionRow = Selectable<UploadSessionsTable>;
export type AuditEventRow = Selectable<AuditEventsTable>;
export type ShareLinkRow = Selectable<ShareLinksTable>;
export type TrashedFileRow = Selectable<TrashedFilesTable>;

/** A user's identity at an OpenID provider (migration 2026-12-04T0800_oidc, modules/oidc). */
export interface OidcIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: number;
  created_at: number;
}

/** A started single sign-on, used once by its callback (modules/oidc). */
export interface OidcLoginsTable {
  /** SHA-256 of the state; the state itself lives only in the browser's cookie and the URL. */
  state_hash: string;
  code_verifier: string;
  nonce: string;
  expires_at: number;
}
