import { randomBytes } from 'node:crypto';
import type { ApiTokenRow, Db } from '../../db/database.js';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import { noControlCharacters, parseInput } from '../../validation.js';
import { hashToken } from '../../secrets.js';
import { audit, type Actor } from '../audit/audit.service.js';
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
      actor: Actor & { user: { id: number } },
      input: { name: string; scopes: ApiScope[]; expiresAt?: Date | null },
    ) {
      const { name } = parseInput(tokenInput(Date.now()), input);

      const secret = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const row = await db.transaction().execute(async (trx) => {
        const token = await insertApiToken(trx, {
          user_id: actor.user.id,
          name,
          token_hash: hashToken(secret),
          scopes: [...new Set(input.scopes)].sort().join(','),
          created_at: Date.now(),
          expires_at: input.expiresAt?.getTime() ?? null,
        });
        await audit.record(trx, {
          actor,
          action: 'token.create',
          target: { type: 'token', id: token.id, label: token.name },
          details: { after: { scopes: token.scopes, expiresAt: token.expires_at } },
        });
        return token;
      });
      return { token: secret, apiToken: toApiToken({ ...row, last_used_at: null }) };
    },

    list: async (userId: number) => (await listApiTokens(db, userId)).map(toApiToken),

    async revoke(actor: Actor & { user: { id: number } }, id: number): Promise<true> {
      await db.transaction().execute(async (trx) => {
        const token = await deleteApiToken(trx, id, actor.user.id);
        if (!token) throw new NotFoundError('No such API token.');
        await audit.record(trx, {
          actor,
          action: 'token.revoke',
          target: { type: 'token', id, label: token.name },
          details: { before: { scopes: token.scopes } },
        });
      });
      return true;
    },
  };
}
