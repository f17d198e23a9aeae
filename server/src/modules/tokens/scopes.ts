export const API_SCOPES = ['READ', 'DOWNLOAD', 'UPLOAD', 'STATS'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const isApiScope = (value: string): value is ApiScope =>
  (API_SCOPES as readonly string[]).includes(value);

/** API tokens are told apart from session tokens by this prefix. */
export const API_TOKEN_PREFIX = 'cab_';
