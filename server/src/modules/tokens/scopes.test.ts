import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken } from '../../../test/library.js';
import { upload, uploadOk } from '../../../test/uploads.js';

// Every entry point against every scope: an API token reaches exactly what its scopes name
// (docs/api.md, "API tokens and scopes"), STATS only while its creator is an admin, and nothing that needs a
// session. Tokens are made by an admin, so only scopes decide.

type Scope = 'READ' | 'DOWNLOAD' | 'UPLOAD' | 'STATS';

describe('API token scopes on every path', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let fileId: string;
  let tagId: string;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    const file = await uploadOk(t, 'scoped bytes', {
      filename: 'scoped.txt',
      tags: ['Scoped'],
      token: admin.token,
    });
    fileId = file.id;
    tagId = (
      await t.server.connection.db
        .selectFrom('tags')
        .select('id')
        .where('name_key', '=', 'scoped')
        .executeTakeFirstOrThrow()
    ).id.toString();
  });
  afterAll(() => t.close());

  /** Each GraphQL entry point with the scope that opens it; null: sessions only. */
  const operations = (): [string, Scope | null, string, Record<string, unknown>][] => [
    ['files', 'READ', `{ files { totalCount } }`, {}],
    ['file', 'READ', `query($id: ID!) { file(id: $id) { id } }`, { id: fileId }],
    ['tags', 'READ', `{ tags { totalCount } }`, {}],
    ['myDownloads', 'READ', `{ myDownloads { totalCount } }`, {}],
    ['downloadStats', 'STATS', `{ downloadStats { total } }`, {}],
    ['downloads', 'STATS', `{ downloads { totalCount } }`, {}],
    ['apiTokens', null, `{ apiTokens { id } }`, {}],
    ['users', null, `{ users { totalCount } }`, {}],
    [
      'createApiToken',
      null,
      `mutation { createApiToken(name: "x", scopes: [READ]) { token } }`,
      {},
    ],
    ['revokeApiToken', null, `mutation { revokeApiToken(id: "999") }`, {}],
    [
      'updateFile',
      null,
      `mutation($id: ID!) { updateFile(id: $id, name: "y.txt") { id } }`,
      { id: fileId },
    ],
    ['deleteFile', null, `mutation { deleteFile(id: "999") }`, {}],
    ['createTag', null, `mutation { createTag(name: "New") { id } }`, {}],
    [
      'updateTag',
      null,
      `mutation($id: ID!) { updateTag(id: $id, name: "Renamed") { id } }`,
      { id: tagId },
    ],
    ['deleteTag', null, `mutation { deleteTag(id: "999") }`, {}],
    ['banUser', null, `mutation { banUser(id: "999") { id } }`, {}],
    ['setUserRole', null, `mutation { setUserRole(id: "999", role: ADMIN) { id } }`, {}],
  ];

  const download = (token: string) =>
    fetch(`${t.url}/files/${fileId}/download`, { headers: { authorization: `Bearer ${token}` } });

  it.each<[Scope[]]>([
    [['READ']],
    [['DOWNLOAD']],
    [['UPLOAD']],
    [['STATS']],
    [['READ', 'DOWNLOAD', 'UPLOAD', 'STATS']],
  ])('a token with %j reaches exactly its scopes', async (scopes) => {
    const token = await apiToken(t, admin.token, scopes);
    for (const [name, scope, query, variables] of operations()) {
      const res = await t.gql(query, variables, { token });
      const allowed = scope !== null && scopes.includes(scope);
      expect([name, allowed ? (errorCode(res) ?? 'ok') : errorCode(res)]).toEqual([
        name,
        allowed ? 'ok' : 'FORBIDDEN',
      ]);
    }
    const res = await download(token);
    await res.arrayBuffer();
    expect(res.status).toBe(scopes.includes('DOWNLOAD') ? 200 : 403);
    const up = await upload(t, 'more bytes', { filename: 'up.txt', token });
    expect(up.data?.uploadFile ? 'ok' : errorCode(up)).toBe(
      scopes.includes('UPLOAD') ? 'ok' : 'FORBIDDEN',
    );
  });

  it('a STATS token follows its creator: user-made ones never work', async () => {
    const user = await t.signUp('user@example.com');
    const token = await apiToken(t, user.token, ['STATS', 'READ']);
    expect(errorCode(await t.gql(`{ downloadStats { total } }`, {}, { token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(`{ downloads { totalCount } }`, {}, { token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(`{ files { totalCount } }`, {}, { token }))).toBeUndefined();
  });

  it('a banned user’s tokens stop at once, on GraphQL and on the download route', async () => {
    const bob = await t.signUp('bob@example.com');
    const token = await apiToken(t, bob.token, ['READ', 'DOWNLOAD']);
    expect((await download(token)).status).toBe(200);
    await t.gql(
      `mutation($id: ID!) { banUser(id: $id) { id } }`,
      { id: bob.id },
      { token: admin.token },
    );
    expect(errorCode(await t.gql(`{ files { totalCount } }`, {}, { token }))).toBe(
      'UNAUTHENTICATED',
    );
    expect((await t.gql(`{ me { id } }`, {}, { token })).data).toEqual({ me: null });
    const res = await download(token);
    await res.arrayBuffer();
    expect(res.status).toBe(401);
  });
});
