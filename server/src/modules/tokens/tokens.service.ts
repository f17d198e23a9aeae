import { randomBytes } from 'node:crypto';
import type { ApiTokenRow, Db } from '../../db/database.js';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { noControlCharacters, parseInput } from '../../validation.js';
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

const tokenInput = (now: number) =>
  z.object({
    name: z
      .string()
      .trim()
      .min(1, 'must be 1 to 100 characters')
      .max(100, 'must be 1 to 100 characters')
      .pipe(noControlCharacters()),
    scopes: z.array(z.string()).min(1, 'choose at least one scope'),
    expiresAt: z
      .date()
      .refine((d) => d.getTime() > now, 'must be in the future')
      .nullish(),
  });

export function createTokensService(db: Db) {
  return {
    async create(
      userId: number,
      input: { name: string; scopes: ApiScope[]; expiresAt?: Date | null },
    ) {
      const { name } = parseInput(tokenInput(Date.now()), input);

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
