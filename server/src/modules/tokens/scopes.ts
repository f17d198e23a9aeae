export const API_SCOPES = ['READ', 'DOWNLOAD', 'UPLOAD', 'STATS', 'AUDIT', 'SHARE'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/** API tokens are told apart from session tokens by this prefix. */
export const API_TOKEN_PREFIX = 'cab_';
