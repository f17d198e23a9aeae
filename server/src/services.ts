import type { Config } from './config.js';
import type { Db } from './db/database.js';
import type { Dialect } from './db/connection.js';
import type { StorageDriver } from './storage/storage.js';
import { createAuditService } from './modules/audit/audit.service.js';
import { createAuthService } from './modules/auth/auth.service.js';
import { createOidcService } from './modules/oidc/oidc.service.js';
import { createPasskeysService } from './modules/passkeys/passkeys.service.js';
import { createAuthRateLimits, type LimiterFactory } from './modules/auth/rate-limit.js';
import { createSessions } from './modules/auth/sessions.js';
import { resolveViewer } from './modules/auth/viewer.js';
import { seesHiddenFiles } from './modules/auth/visibility.js';
import { pingDatabase } from './db/health.js';
import { createDownloadsService } from './modules/downloads/downloads.service.js';
import { createFilesService } from './modules/files/files.service.js';
import { createSharesService } from './modules/shares/shares.service.js';
import { createPreviewsService } from './modules/previews/previews.service.js';
import { createStatsService } from './modules/stats/stats.service.js';
import { foldTagLinkMoves } from './modules/stats/tag-moves.js';
import { createTagsService } from './modules/tags/tags.service.js';
import { createTokensService } from './modules/tokens/tokens.service.js';
import { createUsersService } from './modules/users/users.service.js';

export interface Deps {
  config: Config;
  db: Db;
  /** Where heavy reads (searches, statistics) run; `db` when not given (see db/connection.ts). */
  reads?: Db;
  dialect: Dialect;
  storage: StorageDriver;
  /** Where rate-limit counters live (see limiterFactoryFor). */
  limiterFactory: LimiterFactory;
}

/** Wires every domain service to its dependencies; one instance per process. */
export function createServices(deps: Deps) {
  const { config, db } = deps;
  const reads = deps.reads ?? db;
  const sessions = createSessions(db, {
    days: config.sessionDays,
    secure: config.publicOrigin?.protocol === 'https:',
  });
  const limits = createAuthRateLimits(config.authRatePerAddress, deps.limiterFactory);
  const auth = createAuthService(db, sessions, limits, {
    requireAdminTotp: config.requireAdminTotp,
    passwordLogin: config.passwordLogin,
  });
  // Only services go out: GraphQL and HTTP never see the database, storage or configuration.
  return {
    sessions,
    auth,
    passkeys: createPasskeysService(db, sessions, limits, { passwordLogin: config.passwordLogin }),
    /** Single sign-on; null when OIDC_ISSUER is unset. */
    oidc: config.oidc ? createOidcService(db, sessions, config.oidc) : null,
    /** What the sign-in page offers (the public `authConfig` query). */
    authConfig: {
      passwordLogin: config.passwordLogin,
      oidc: config.oidc ? { name: config.oidc.name } : null,
    },
    /** The viewer a session or API token stands for, or null (checked on every request). */
    viewerFor: (token: string) =>
      resolveViewer(db, sessions, token, { requireAdminTotp: config.requireAdminTotp }),
    /** Resolves when the database answers (`/healthz`). */
    health: () => pingDatabase(db),
    users: createUsersService(db, {
      revokeAll: auth.revokeAll,
      seesHiddenFiles,
      defaultQuotaBytes: config.defaultQuotaBytes,
    }),
    tokens: createTokensService(db),
    tags: createTagsService(db),
    files: createFilesService({
      db,
      reads,
      dialect: deps.dialect,
      storage: deps.storage,
      maxUploadBytes: config.maxUploadBytes,
      trashDays: config.trashDays,
      defaultQuotaBytes: config.defaultQuotaBytes,
    }),
    downloads: createDownloadsService(db, deps.dialect),
    shares: createSharesService({
      db,
      dialect: deps.dialect,
      limiterFactory: deps.limiterFactory,
      secure: config.publicOrigin?.protocol === 'https:',
    }),
    previews: createPreviewsService({
      db,
      storage: deps.storage,
      limits: { timeoutMs: config.thumbnailTimeoutMs },
    }),
    // Statistics only read, and a year of them is heavy: all through `reads`.
    stats: createStatsService(reads, deps.dialect, () => foldTagLinkMoves(db, deps.dialect)),
    audit: createAuditService(db, { auditDays: config.auditDays }),
  };
}

export type Services = ReturnType<typeof createServices>;
