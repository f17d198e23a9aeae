import { randomBytes } from 'node:crypto';
import type { ApiTokenRow, Db } from '../../db/database.js';
import { BadUserInputError, NotFoundError } from '../../errors.js';
import { hashToken } from '../../secrets.js';
import { API_TOKEN_PREFIX, type ApiScope } from './scopes.js';
import { deleteApiToken, insertApiToken, listApiTokens } from './tokens.repository.js';

export interface ApiToken extends Omit<ApiTokenRow, 'scopes'> {
  scopes: ApiScope[];
}

export const toApiToken = (row: ApiTokenRow): ApiToken => ({
  ...row,
  scopes: row.scopes ? (row.scopes.split(',') as ApiScope[]) : [],
});

export function createTokensService(db: Db) {
  return {
    async create(
      userId: number,
      input: { name: string; scopes: ApiScope[]; expiresAt?: Date | null },
    ) {
      const name = input.name.trim();
      const fields: Record<string, string> = {};
      if (name.length < 1 || name.length > 100) fields.name = 'must be 1 to 100 characters';
      else if (/\p{Cc}/u.test(name)) fields.name = 'must not contain control characters';
      if (input.scopes.length === 0) fields.scopes = 'choose at least one scope';
      if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
        fields.expiresAt = 'must be in the future';
      if (Object.keys(fields).length)
        throw new BadUserInputError('The token is not valid.', fields);

      const secret = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const row = await insertApiToken(db, {
        user_id: userId,
        name,
        token_hash: hashToken(secret),
        scopes: [...new Set(input.scopes)].sort().join(','),
        created_at: Date.now(),
        expires_at: input.expiresAt?.getTime() ?? null,
      });
      return { token: secret, apiToken: toApiToken({ ...row, last_used_at: null }) };
    },

    list: async (userId: number) => (await listApiTokens(db, userId)).map(toApiToken),

    async revoke(userId: number, id: number): Promise<true> {
      if (!(await deleteApiToken(db, id, userId))) throw new NotFoundError('No such API token.');
      return true;
    },
  };
}
