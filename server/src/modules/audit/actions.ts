/**
 * Every action the audit log records. Other modules name their events from here, so a typo does
 * not compile and the list in the API description stays complete.
 */
export const AUDIT_ACTIONS = [
  'user.ban',
  'user.unban',
  'user.role',
  'user.quota',
  'file.status',
  'file.tags',
  'file.delete',
  'file.restore',
  'file.purge',
  'tag.create',
  'tag.update',
  'tag.delete',
  'token.create',
  'token.revoke',
  'share.create',
  'share.revoke',
  'auth.login_failed',
  'auth.locked',
  'auth.password_changed',
  'auth.password_reset',
  'auth.totp_enabled',
  'auth.totp_disabled',
  'auth.recovery_codes_regenerated',
  'auth.oidc_login',
  'auth.session_revoked',
  'auth.passkey_added',
  'auth.passkey_deleted',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
