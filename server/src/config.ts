import path from 'node:path';
import { z } from 'zod';
import type { StorageConfig } from './storage/index.js';

export interface Config {
  port: number;
  host: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  storage: StorageConfig;
  maxUploadBytes: number;
  /** Bytes per PATCH the web app sends to /uploads (announced on OPTIONS /uploads). */
  uploadChunkBytes: number;
  /** An unfinished resumable upload is swept, bytes and all, this long after it was created. */
  uploadExpiryMs: number;
  sessionDays: number;
  /** Days a deleted file stays in the trash, restorable; 0 purges at once. */
  trashDays: number;
  /** The quota of users without their own, in bytes; null: none. */
  defaultQuotaBytes: number | null;
  /** Days audit events are kept. */
  auditDays: number;
  authRatePerAddress: number;
  /** How many reverse proxies in front append to X-Forwarded-For (0: use the socket address). */
  trustProxy: number;
  publicOrigin: URL | null;
  /** How long an instance's lease lasts without renewal (crash-leftover detection, lease.ts). */
  instanceLeaseMs: number;
  /** Origins whose scripts may call /graphql with Bearer tokens (never with cookies). */
  corsOrigins: string[];
  /** A request's headers must arrive within this long. */
  headersTimeoutMs: number;
  /** A connection that sends or takes nothing for this long is cut (a stalled body, a stuck reader). */
  idleTimeoutMs: number;
  /** Where the built web app lives; null serves no web app (API-only tests). */
  webDir: string | null;
  logLevel: string;
  /** REQUIRE_ADMIN_TOTP=on: an admin acts as a USER until they turn on two-factor sign-in. */
  requireAdminTotp: boolean;
  /** Wall time for making one thumbnail; past it the source is remembered as having none. */
  thumbnailTimeoutMs: number;
  /** Single sign-on (OpenID Connect); null when OIDC_ISSUER is unset. */
  oidc: OidcConfig | null;
  /** PASSWORD_LOGIN=off: login, register and password resets are refused (sign-on only). */
  passwordLogin: boolean;
}

export interface OidcConfig {
  issuer: URL;
  clientId: string;
  clientSecret: string | null;
  /** Members of this `groups` claim value become ADMIN at each sign-in, others USER; null: roles untouched. */
  adminGroup: string | null;
  /** Shown on the sign-in button: "Sign in with <name>". */
  name: string;
}

/** A whole number from `min` to `max`, `fallback` when unset or empty, else `message`. */
const wholeNumber = (fallback: number, min: number, max: number, message: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!Number.isSafeInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      }
      return n;
    });

const positiveInt = (name: string, fallback: number) =>
  wholeNumber(fallback, 1, Number.MAX_SAFE_INTEGER, `${name} must be a positive whole number`);

/** An http(s) URL, or null when unset or empty. */
const httpUrl = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return null;
      try {
        const url = new URL(v);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
        return url;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${name} must be an http(s) URL` });
        return z.NEVER;
      }
    });

const envSchema = z.object({
  PORT: wholeNumber(3000, 0, 65535, 'PORT must be a port number (0–65535)'),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().default('sqlite:files/cabinet.sqlite'),
  STORAGE: z.enum(['local', 's3'], { message: 'STORAGE must be "local" or "s3"' }).default('local'),
  FILES_DIR: z.string().min(1).default('files'),
  S3_ENDPOINT: z.string().optional(),
  S3_BUCKET: z.string().optional(),
  S3_REGION: z.string().optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  MAX_UPLOAD_BYTES: positiveInt('MAX_UPLOAD_BYTES', 5 * 1024 ** 3),
  UPLOAD_EXPIRY_HOURS: positiveInt('UPLOAD_EXPIRY_HOURS', 24),
  UPLOAD_CHUNK_BYTES: positiveInt('UPLOAD_CHUNK_BYTES', 8 * 1024 ** 2),
  SESSION_DAYS: positiveInt('SESSION_DAYS', 30),
  AUTH_RATE_PER_ADDRESS: positiveInt('AUTH_RATE_PER_ADDRESS', 300),
  TRASH_DAYS: wholeNumber(30, 0, 36_500, 'TRASH_DAYS must be a whole number of days (0–36500)'),
  DEFAULT_QUOTA_BYTES: wholeNumber(
    -1,
    0,
    Number.MAX_SAFE_INTEGER,
    'DEFAULT_QUOTA_BYTES must be a whole number of bytes',
  ),
  AUDIT_DAYS: wholeNumber(365, 1, 36_500, 'AUDIT_DAYS must be a whole number of days (1–36500)'),
  INSTANCE_LEASE_SECONDS: positiveInt('INSTANCE_LEASE_SECONDS', 60),
  TRUST_PROXY: wholeNumber(
    0,
    0,
    10,
    'TRUST_PROXY must be the number of reverse proxies in front (0–10)',
  ),
  PUBLIC_ORIGIN: httpUrl('PUBLIC_ORIGIN'),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const origins: string[] = [];
      for (const item of (v ?? '').split(',').map((s) => s.trim())) {
        if (!item) continue;
        let origin: string | null = null;
        try {
          const url = new URL(item);
          if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item) {
            origin = url.origin;
          }
        } catch {
          // reported below
        }
        if (!origin) {
          ctx.addIssue({
            code: 'custom',
            message: `CORS_ORIGINS: ${JSON.stringify(item)} is not an origin like https://app.example.com`,
          });
          return z.NEVER;
        }
        origins.push(origin);
      }
      return origins;
    }),
  HEADERS_TIMEOUT_SECONDS: positiveInt('HEADERS_TIMEOUT_SECONDS', 20),
  IDLE_TIMEOUT_SECONDS: positiveInt('IDLE_TIMEOUT_SECONDS', 60),
  // Fractions allowed (0.5): the limit is wall time, and tests prove it with a tiny one.
  THUMBNAIL_TIMEOUT_SECONDS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 30;
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0 || n > 3600) {
        ctx.addIssue({
          code: 'custom',
          message: 'THUMBNAIL_TIMEOUT_SECONDS must be a number of seconds above 0, at most 3600',
        });
        return z.NEVER;
      }
      return n;
    }),
  WEB_DIR: z.string().optional(),
  LOG_LEVEL: z.string().default('info'),
  REQUIRE_ADMIN_TOTP: z
    .enum(['on', 'off'], { message: 'REQUIRE_ADMIN_TOTP must be "on" or "off"' })
    .default('off'),
  OIDC_ISSUER: httpUrl('OIDC_ISSUER'),
  OIDC_CLIENT_ID: z.string().optional(),
  OIDC_CLIENT_SECRET: z.string().optional(),
  OIDC_ADMIN_GROUP: z.string().optional(),
  OIDC_NAME: z.string().max(60, 'OIDC_NAME must be at most 60 characters').optional(),
  PASSWORD_LOGIN: z
    .enum(['on', 'off'], { message: 'PASSWORD_LOGIN must be "on" or "off"' })
    .default('on'),
});

export class ConfigError extends Error {}

/** Reads the environment into a typed config; throws a ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, root = process.cwd()): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const database = parseDatabaseUrl(e.DATABASE_URL, root);
  let storage: StorageConfig;
  if (e.STORAGE === 's3') {
    const missing = (['S3_BUCKET', 'S3_REGION'] as const).filter((k) => !e[k]);
    if (missing.length) {
      throw new ConfigError(`Invalid configuration:\n  STORAGE=s3 needs ${missing.join(', ')}`);
    }
    storage = {
      kind: 's3',
      bucket: e.S3_BUCKET!,
      region: e.S3_REGION!,
      ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
      ...(e.S3_ACCESS_KEY_ID ? { accessKeyId: e.S3_ACCESS_KEY_ID } : {}),
      ...(e.S3_SECRET_ACCESS_KEY ? { secretAccessKey: e.S3_SECRET_ACCESS_KEY } : {}),
    };
  } else {
    storage = { kind: 'local', filesDir: path.resolve(root, e.FILES_DIR) };
  }
  let oidc: OidcConfig | null = null;
  if (e.OIDC_ISSUER) {
    if (!e.OIDC_CLIENT_ID) {
      throw new ConfigError('Invalid configuration:\n  OIDC_ISSUER needs OIDC_CLIENT_ID');
    }
    oidc = {
      issuer: e.OIDC_ISSUER,
      clientId: e.OIDC_CLIENT_ID,
      clientSecret: e.OIDC_CLIENT_SECRET || null,
      adminGroup: e.OIDC_ADMIN_GROUP || null,
      name: e.OIDC_NAME || e.OIDC_ISSUER.hostname,
    };
  }
  if (e.PASSWORD_LOGIN === 'off' && !oidc) {
    // Nobody could sign in at all: refuse to start rather than lock everyone out.
    throw new ConfigError('Invalid configuration:\n  PASSWORD_LOGIN=off needs OIDC_ISSUER');
  }
  if (e.PASSWORD_LOGIN === 'off' && e.REQUIRE_ADMIN_TOTP === 'on') {
    // Sign-on never asks Cabinet's second factor, and without password sign-in there is none to
    // set up: every admin would be held to USER rights for good.
    throw new ConfigError(
      'Invalid configuration:\n  REQUIRE_ADMIN_TOTP=on needs password sign-in (PASSWORD_LOGIN=on); with sign-on only, require two-factor at the provider',
    );
  }
  return {
    port: e.PORT,
    host: e.HOST,
    database,
    storage,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    uploadChunkBytes: e.UPLOAD_CHUNK_BYTES,
    uploadExpiryMs: e.UPLOAD_EXPIRY_HOURS * 3_600_000,
    sessionDays: e.SESSION_DAYS,
    trashDays: e.TRASH_DAYS,
    // -1 is wholeNumber's fallback for "unset": no default quota.
    defaultQuotaBytes: e.DEFAULT_QUOTA_BYTES < 0 ? null : e.DEFAULT_QUOTA_BYTES,
    auditDays: e.AUDIT_DAYS,
    authRatePerAddress: e.AUTH_RATE_PER_ADDRESS,
    trustProxy: e.TRUST_PROXY,
    publicOrigin: e.PUBLIC_ORIGIN,
    instanceLeaseMs: e.INSTANCE_LEASE_SECONDS * 1000,
    corsOrigins: e.CORS_ORIGINS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1000,
    idleTimeoutMs: e.IDLE_TIMEOUT_SECONDS * 1000,
    webDir: e.WEB_DIR === '' ? null : path.resolve(root, e.WEB_DIR ?? 'web/build'),
    logLevel: e.LOG_LEVEL,
    requireAdminTotp: e.REQUIRE_ADMIN_TOTP === 'on',
    oidc,
    passwordLogin: e.PASSWORD_LOGIN === 'on',
    thumbnailTimeoutMs: Math.max(1, Math.round(e.THUMBNAIL_TIMEOUT_SECONDS * 1000)),
  };
}

function parseDatabaseUrl(url: string, root: string): Config['database'] {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return { kind: 'postgres', url };
  }
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file)
      throw new ConfigError('Invalid configuration:\n  DATABASE_URL: sqlite: needs a file');
    return { kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(root, file) };
  }
  throw new ConfigError(
    'Invalid configuration:\n  DATABASE_URL must start with sqlite: or postgres:// (e.g. sqlite:files/cabinet.sqlite)',
  );
}
