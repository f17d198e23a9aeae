import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { uploadOk } from '../../../test/uploads.js';

const USERS = `query($query: String, $first: Int, $after: String, $offset: Int) {
  users(query: $query, first: $first, after: $after, offset: $offset) {
    totalCount edges { cursor node { email name role banned uploadCount downloadCount createdAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const BAN = `mutation($id: ID!) { banUser(id: $id) { id banned } }`;
const UNBAN = `mutation($id: ID!) { unbanUser(id: $id) { id banned } }`;
const ROLE = `mutation($id: ID!, $role: Role!) { setUserRole(id: $id, role: $role) { id role } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token } }`;

describe('user administration', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let bob: { token: string; id: string };
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com', { name: 'Admin' });
    bob = await t.signUp('bob@example.com', { name: 'Bob Builder' });
    await t.signUp('carol@example.org', { name: 'Carol Ångström' });
    await t.signUp('dave_100%@example.org', { name: 'Dave' });
  });
  afterAll(() => t.close());

  it('lists users for admins only', async () => {
    const res = await t.gql<{ users: { totalCount: number } }>(USERS, {}, { token: admin.token });
    expect(res.data!.users.totalCount).toBe(4);
    expect(errorCode(await t.gql(USERS, {}, { token: bob.token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(USERS))).toBe('UNAUTHENTICATED');
  });

  it('searches a substring of email or name, case-insensitively and Unicode-aware, % and _ literal', async () => {
    const emails = async (query: string) => {
      const res = await t.gql<{
        users: { edges: { node: { email: string } }[]; totalCount: number };
      }>(USERS, { query }, { token: admin.token });
      return res.data!.users.edges.map((e) => e.node.email).sort();
    };
    expect(await emails('EXAMPLE.ORG')).toEqual(['carol@example.org', 'dave_100%@example.org']);
    expect(await emails('builder')).toEqual(['bob@example.com']);
    expect(await emails('ÅNGSTRÖM')).toEqual(['carol@example.org']);
    expect(await emails('_100%')).toEqual(['dave_100%@example.org']);
    expect(await emails('%')).toEqual(['dave_100%@example.org']);
    expect(await emails('zzz')).toEqual([]);
    // Found by the fuzz suite: a NUL reached PostgreSQL and came back INTERNAL_SERVER_ERROR.
    const nul = await t.gql(USERS, { query: 'a\u0000b' }, { token: admin.token });
    expect(nul.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: { query: 'must not contain control characters' },
    });
  });

  it('pages with first/after/offset and reports totalCount for the whole result', async () => {
    const page1 = await t.gql<{
      users: {
        totalCount: number;
        edges: { node: { email: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    }>(USERS, { first: 3 }, { token: admin.token });
    expect(page1.data!.users.edges).toHaveLength(3);
    expect(page1.data!.users.totalCount).toBe(4);
    expect(page1.data!.users.pageInfo.hasNextPage).toBe(true);
    const page2 = await t.gql<typeof page1.data>(
      USERS,
      { first: 3, after: page1.data!.users.pageInfo.endCursor },
      { token: admin.token },
    );
    expect(page2.data!.users.edges).toHaveLength(1);
    expect(page2.data!.users.pageInfo.hasNextPage).toBe(false);
    const byOffset = await t.gql<typeof page1.data>(
      USERS,
      { first: 3, offset: 3 },
      { token: admin.token },
    );
    expect(byOffset.data!.users.edges).toEqual(page2.data!.users.edges);
    expect(errorCode(await t.gql(USERS, { first: 101 }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await t.gql(USERS, { after: 'bogus' }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('orders by orderBy, ties broken by id, never-active users last', async () => {
    const order = async (orderBy: string) => {
      const res = await t.gql<{ users: { edges: { node: { email: string } }[] } }>(
        `query($orderBy: UserOrder) { users(orderBy: $orderBy, first: 10) { edges { node { email } } } }`,
        { orderBy },
        { token: admin.token },
      );
      return res.data!.users.edges.map((e) => e.node.email);
    };
    const newest = await order('NEWEST');
    expect(await order('OLDEST')).toEqual([...newest].reverse());
    expect(await order('EMAIL')).toEqual([...newest].sort());
    expect((await order('NAME'))[0]).toBe('admin@example.com');
    expect(await order('LAST_ACTIVE')).toHaveLength(newest.length);
    expect(await order('MOST_UPLOADS')).toHaveLength(newest.length);
    expect(await order('MOST_DOWNLOADS')).toHaveLength(newest.length);
    const bad = await t.gql(
      `{ users(orderBy: SIDEWAYS) { totalCount } }`,
      {},
      { token: admin.token },
    );
    expect(errorCode(bad)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('ban ends live sessions and blocks sign-in and sign-up; unban restores sign-in', async () => {
    const victim = await t.signUp('victim@example.com', { password: 'victim password' });
    const token = await t.gql<{ createApiToken: { token: string } }>(
      `mutation { createApiToken(name: "ci", scopes: [READ]) { token } }`,
      {},
      { token: victim.token },
    );
    const apiToken = token.data!.createApiToken.token;
    expect((await t.gql(`{ me { id } }`, {}, { token: apiToken })).data).toEqual({
      me: { id: victim.id },
    });

    const ban = await t.gql(BAN, { id: victim.id }, { token: admin.token });
    expect(ban.data).toEqual({ banUser: { id: victim.id, banned: true } });
    expect((await t.gql(`{ me { id } }`, {}, { token: victim.token })).data).toEqual({ me: null });
    expect((await t.gql(`{ me { id } }`, {}, { token: apiToken })).data).toEqual({ me: null });

    const login = await t.gql(LOGIN, { email: 'victim@example.com', password: 'victim password' });
    expect(errorCode(login)).toBe('FORBIDDEN');
    expect(login.errors?.[0]?.message).toMatch(/banned/);
    const again = await t.gql(
      `mutation { register(email: "VICTIM@example.com", name: "V", password: "another password") { token } }`,
    );
    expect(errorCode(again)).toBe('FORBIDDEN');

    await t.gql(UNBAN, { id: victim.id }, { token: admin.token });
    const back = await t.gql(LOGIN, { email: 'victim@example.com', password: 'victim password' });
    expect(back.data).toMatchObject({ login: { token: expect.any(String) } });
  });

  it('refuses self-ban and self-demotion', async () => {
    expect(errorCode(await t.gql(BAN, { id: admin.id }, { token: admin.token }))).toBe('FORBIDDEN');
    expect(
      errorCode(await t.gql(ROLE, { id: admin.id, role: 'USER' }, { token: admin.token })),
    ).toBe('FORBIDDEN');
    const me = await t.gql(`{ me { role banned } }`, {}, { token: admin.token });
    expect(me.data).toEqual({ me: { role: 'ADMIN', banned: false } });
  });

  it('promotes and demotes others; non-admins may not', async () => {
    expect((await t.gql(ROLE, { id: bob.id, role: 'ADMIN' }, { token: admin.token })).data).toEqual(
      {
        setUserRole: { id: bob.id, role: 'ADMIN' },
      },
    );
    expect((await t.gql(`{ me { role } }`, {}, { token: bob.token })).data).toEqual({
      me: { role: 'ADMIN' },
    });
    await t.gql(ROLE, { id: bob.id, role: 'USER' }, { token: admin.token });
    expect(errorCode(await t.gql(BAN, { id: admin.id }, { token: bob.token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(BAN, { id: '99999' }, { token: admin.token }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(BAN, { id: 'abc' }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );
  });
});

describe('upload counts', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let uploader: { token: string; id: string };
  let other: { token: string; id: string };
  const COUNTS = `query($id: ID!) { file(id: $id) { uploadedBy { uploadCount hiddenUploadCount } } }`;
  const ME = `{ me { uploadCount hiddenUploadCount } }`;
  let shown: string;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    uploader = await t.signUp('uploader@example.com');
    other = await t.signUp('other@example.com');
    const ids = [];
    for (const name of ['kept.txt', 'hidden.txt', 'deleted.txt']) {
      ids.push((await uploadOk(t, name, { token: uploader.token, filename: name })).id);
    }
    [shown] = ids as [string];
    const hide = await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
      { id: ids[1] },
      { token: admin.token },
    );
    expect(hide.errors).toBeUndefined();
    const del = await t.gql(
      `mutation($id: ID!) { deleteFile(id: $id) }`,
      { id: ids[2] },
      { token: uploader.token },
    );
    expect(del.data).toEqual({ deleteFile: true });
  });
  afterAll(() => t.close());

  it('leaves deleted files out, and HIDDEN ones for everyone but admins', async () => {
    const asAdmin = await t.gql(USERS, { query: 'uploader' }, { token: admin.token });
    expect(asAdmin.data).toMatchObject({
      users: { edges: [{ node: { email: 'uploader@example.com', uploadCount: 2 } }] },
    });
    const seen = async (token: string) => (await t.gql(COUNTS, { id: shown }, { token })).data;
    expect(await seen(admin.token)).toEqual({
      file: { uploadedBy: { uploadCount: 2, hiddenUploadCount: 1 } },
    });
    expect(await seen(other.token)).toEqual({
      file: { uploadedBy: { uploadCount: 1, hiddenUploadCount: null } },
    });
  });

  it('tells the uploader how many of their files an admin hid, and follows showing again', async () => {
    expect((await t.gql(ME, {}, { token: uploader.token })).data).toEqual({
      me: { uploadCount: 1, hiddenUploadCount: 1 },
    });
    expect((await t.gql(ME, {}, { token: other.token })).data).toEqual({
      me: { uploadCount: 0, hiddenUploadCount: 0 },
    });
    const hidden = await t.gql<{ files: { edges: { node: { id: string } }[] } }>(
      `{ files(status: HIDDEN) { edges { node { id } } } }`,
      {},
      { token: admin.token },
    );
    const [hiddenId] = hidden.data!.files.edges.map((e) => e.node.id);
    await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, status: ACTIVE) { id } }`,
      { id: hiddenId },
      { token: admin.token },
    );
    expect((await t.gql(ME, {}, { token: uploader.token })).data).toEqual({
      me: { uploadCount: 2, hiddenUploadCount: 0 },
    });
  });
});

describe('needsFirstAccount', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('is true for anyone until the first account exists, then false', async () => {
    const ask = async (token?: string) =>
      (await t.gql<{ needsFirstAccount: boolean }>('{ needsFirstAccount }', {}, { token })).data!
        .needsFirstAccount;
    expect(await ask()).toBe(true);
    const first = await t.signUp('first@example.com');
    expect(await ask()).toBe(false);
    expect(await ask(first.token)).toBe(false);
  });
});
