import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';

const CREATE = `mutation($name: String!, $scopes: [ApiScope!]!, $expiresAt: DateTime) {
  createApiToken(name: $name, scopes: $scopes, expiresAt: $expiresAt) {
    token apiToken { id name scopes createdAt expiresAt lastUsedAt } } }`;

describe('API tokens', () => {
  let t: TestServer;
  let user: { token: string; id: string };
  beforeAll(async () => {
    t = await startTestServer();
    await t.signUp('admin@example.com');
    user = await t.signUp('user@example.com');
  });
  afterAll(() => t.close());

  it('shows the secret once and stores only its hash', async () => {
    const res = await t.gql<{
      createApiToken: { token: string; apiToken: { id: string; scopes: string[] } };
    }>(
      CREATE,
      { name: 'backup script', scopes: ['READ', 'DOWNLOAD', 'READ'] },
      { token: user.token },
    );
    const created = res.data!.createApiToken;
    expect(created.token).toMatch(/^cab_[\w-]{40,}$/);
    expect(created.apiToken.scopes).toEqual(['DOWNLOAD', 'READ']);
    const rows = await t.server.connection.db
      .selectFrom('api_tokens')
      .select('token_hash')
      .execute();
    expect(rows.map((r) => r.token_hash)).not.toContain(created.token);
    const list = await t.gql<{ apiTokens: { id: string; name: string }[] }>(
      `{ apiTokens { id name } }`,
      {},
      { token: user.token },
    );
    expect(list.data!.apiTokens).toEqual([{ id: created.apiToken.id, name: 'backup script' }]);
  });

  it('validates name, scopes and expiry', async () => {
    const empty = await t.gql(CREATE, { name: ' ', scopes: [] }, { token: user.token });
    expect(errorCode(empty)).toBe('BAD_USER_INPUT');
    expect(empty.errors?.[0]?.extensions?.fields).toEqual({
      name: 'must be 1 to 100 characters',
      scopes: 'choose at least one scope',
    });
    const past = await t.gql(
      CREATE,
      { name: 'x', scopes: ['READ'], expiresAt: '2000-01-01T00:00:00Z' },
      { token: user.token },
    );
    expect(past.errors?.[0]?.extensions?.fields).toEqual({ expiresAt: 'must be in the future' });
    const bad = await t.gql(
      CREATE,
      { name: 'x', scopes: ['READ'], expiresAt: 'tomorrow' },
      { token: user.token },
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    // Found by the fuzz suite: a NUL reached PostgreSQL and came back INTERNAL_SERVER_ERROR.
    for (const name of ['a\u0000b', 'a\u001bb']) {
      const control = await t.gql(CREATE, { name, scopes: ['READ'] }, { token: user.token });
      expect(control.errors?.[0]?.extensions?.fields).toEqual({
        name: 'must not contain control characters',
      });
    }
  });

  it('authenticates with the token, records lastUsedAt, and cannot manage tokens itself', async () => {
    const res = await t.gql<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      CREATE,
      { name: 'reader', scopes: ['READ'] },
      { token: user.token },
    );
    const secret = res.data!.createApiToken.token;
    expect((await t.gql(`{ me { id } }`, {}, { token: secret })).data).toEqual({
      me: { id: user.id },
    });
    const list = await t.gql<{ apiTokens: { id: string; lastUsedAt: string | null }[] }>(
      `{ apiTokens { id lastUsedAt } }`,
      {},
      { token: user.token },
    );
    const used = list.data!.apiTokens.find((k) => k.id === res.data!.createApiToken.apiToken.id);
    expect(used?.lastUsedAt).not.toBeNull();
    expect(errorCode(await t.gql(`{ apiTokens { id } }`, {}, { token: secret }))).toBe('FORBIDDEN');
    expect(
      errorCode(await t.gql(CREATE, { name: 'y', scopes: ['STATS'] }, { token: secret })),
    ).toBe('FORBIDDEN');
  });

  it('stops working once revoked or expired; revoking another user’s token is NOT_FOUND', async () => {
    const res = await t.gql<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      CREATE,
      {
        name: 'short lived',
        scopes: ['READ'],
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
      },
      { token: user.token },
    );
    const { token: secret, apiToken } = res.data!.createApiToken;
    const other = await t.signUp('other@example.com');
    expect(
      errorCode(
        await t.gql(
          `mutation($id: ID!) { revokeApiToken(id: $id) }`,
          { id: apiToken.id },
          { token: other.token },
        ),
      ),
    ).toBe('NOT_FOUND');
    // Expire it in place: the next request must be anonymous.
    await t.server.connection.db
      .updateTable('api_tokens')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', Number(apiToken.id))
      .execute();
    expect((await t.gql(`{ me { id } }`, {}, { token: secret })).data).toEqual({ me: null });
    await t.server.connection.db
      .updateTable('api_tokens')
      .set({ expires_at: null })
      .where('id', '=', Number(apiToken.id))
      .execute();
    expect(
      (
        await t.gql(
          `mutation($id: ID!) { revokeApiToken(id: $id) }`,
          { id: apiToken.id },
          { token: user.token },
        )
      ).data,
    ).toEqual({
      revokeApiToken: true,
    });
    expect((await t.gql(`{ me { id } }`, {}, { token: secret })).data).toEqual({ me: null });
  });
});
