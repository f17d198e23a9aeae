import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, insertFiles } from '../../../test/library.js';
import { uploadOk } from '../../../test/uploads.js';
import { sortKey } from '../../db/sort-key.js';

const TAGS = `query($query: String, $first: Int, $after: String, $offset: Int) {
  tags(query: $query, first: $first, after: $after, offset: $offset) {
    totalCount edges { cursor node { id name fileCount downloadCount createdAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor } } }`;
const CREATE = `mutation($name: String!) { createTag(name: $name) { id name fileCount } }`;
const UPDATE = `mutation($id: ID!, $name: String!) { updateTag(id: $id, name: $name) { id name } }`;
const DELETE = `mutation($id: ID!) { deleteTag(id: $id) }`;

interface TagNode {
  id: string;
  name: string;
  fileCount: number;
  downloadCount: number;
}
interface TagsResult {
  tags: {
    totalCount: number;
    edges: { cursor: string; node: TagNode }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  };
}

describe('tags', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let user: { token: string; id: string };
  const list = async (variables: Record<string, unknown>, token = admin.token) =>
    (await t.gql<TagsResult>(TAGS, variables, { token })).data!.tags;
  const names = async (query: string, token = admin.token) =>
    (await list({ query, first: 100 }, token)).edges.map((e) => e.node.name);

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    user = await t.signUp('user@example.com');
  });
  afterAll(() => t.close());

  it('admins create tags: trimmed, 1–40 characters, unique case-insensitively (Unicode too)', async () => {
    const res = await t.gql(CREATE, { name: '  Holiday Photos ' }, { token: admin.token });
    expect(res.data).toMatchObject({ createTag: { name: 'Holiday Photos', fileCount: 0 } });
    const dup = await t.gql(CREATE, { name: 'HOLIDAY photos' }, { token: admin.token });
    expect(errorCode(dup)).toBe('CONFLICT');
    expect(dup.errors?.[0]?.extensions?.fields).toEqual({ name: 'is already taken' });

    expect((await t.gql(CREATE, { name: 'Ärger' }, { token: admin.token })).data).toBeTruthy();
    expect(errorCode(await t.gql(CREATE, { name: 'ärger' }, { token: admin.token }))).toBe(
      'CONFLICT',
    );

    for (const bad of ['', '   ', 'x'.repeat(41), 'a\nb']) {
      const r = await t.gql(CREATE, { name: bad }, { token: admin.token });
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(Object.keys(r.errors![0]!.extensions!.fields as object)).toEqual(['name']);
    }
    // 40 characters counted as characters, not bytes or UTF-16 units.
    const long = '写'.repeat(39) + '😀';
    expect((await t.gql(CREATE, { name: long }, { token: admin.token })).data).toMatchObject({
      createTag: { name: long },
    });
  });

  it('only admins with a session manage tags', async () => {
    expect(errorCode(await t.gql(CREATE, { name: 'mine' }, { token: user.token }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await t.gql(CREATE, { name: 'mine' }))).toBe('UNAUTHENTICATED');
    const token = await apiToken(t, admin.token, ['READ', 'UPLOAD', 'DOWNLOAD', 'STATS']);
    expect(errorCode(await t.gql(CREATE, { name: 'mine' }, { token }))).toBe('FORBIDDEN');
    const [tag] = (await list({ query: 'holiday' })).edges;
    expect(
      errorCode(await t.gql(UPDATE, { id: tag!.node.id, name: 'x' }, { token: user.token })),
    ).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(DELETE, { id: tag!.node.id }, { token: user.token }))).toBe(
      'FORBIDDEN',
    );
  });

  it('renames, allowing a change of case and refusing another tag’s name', async () => {
    const a = (
      await t.gql<{ createTag: TagNode }>(CREATE, { name: 'Drafts' }, { token: admin.token })
    ).data!.createTag;
    await t.gql(CREATE, { name: 'Final' }, { token: admin.token });
    expect(
      (await t.gql(UPDATE, { id: a.id, name: 'DRAFTS' }, { token: admin.token })).data,
    ).toEqual({ updateTag: { id: a.id, name: 'DRAFTS' } });
    const clash = await t.gql(UPDATE, { id: a.id, name: ' final ' }, { token: admin.token });
    expect(errorCode(clash)).toBe('CONFLICT');
    expect(errorCode(await t.gql(UPDATE, { id: '99999', name: 'x' }, { token: admin.token }))).toBe(
      'NOT_FOUND',
    );
    expect(errorCode(await t.gql(UPDATE, { id: a.id, name: '' }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('deleting a tag detaches it from its files', async () => {
    const [fileId] = await insertFiles(t, [{ name: 'report.pdf', tags: ['Doomed', 'Kept'] }]);
    const doomed = (await list({ query: 'doomed' })).edges[0]!.node;
    expect(doomed.fileCount).toBe(1);
    expect((await t.gql(DELETE, { id: doomed.id }, { token: admin.token })).data).toEqual({
      deleteTag: true,
    });
    expect(await names('doomed')).toEqual([]);
    const links = await t.server.connection.db
      .selectFrom('file_tags')
      .selectAll()
      .where('file_id', '=', fileId!)
      .execute();
    expect(links).toHaveLength(1);
    expect(errorCode(await t.gql(DELETE, { id: doomed.id }, { token: admin.token }))).toBe(
      'NOT_FOUND',
    );
  });

  it('searches names by case-insensitive Unicode substring, % and _ literal', async () => {
    for (const name of ['Straße', 'ÉTÉ 2024', '東京タワー', '100%_done', '100 done'])
      await t.gql(CREATE, { name }, { token: admin.token });
    expect(await names('STRASSE')).toEqual([]);
    expect(await names('straße')).toEqual(['Straße']);
    expect(await names('été')).toEqual(['ÉTÉ 2024']);
    expect(await names('京タ')).toEqual(['東京タワー']);
    expect(await names('%_')).toEqual(['100%_done']);
    expect(await names('0_')).toEqual([]);
    expect(await names('zzz')).toEqual([]);
    // Found by the fuzz suite: a NUL reached PostgreSQL and came back INTERNAL_SERVER_ERROR.
    const nul = await t.gql(
      'query($q: String) { tags(query: $q) { totalCount } }',
      { q: 'a\u0000b' },
      { token: admin.token },
    );
    expect(nul.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: { query: 'must not contain control characters' },
    });
  });

  it('lists by name with paging and totalCount; READ tokens may list, other scopes may not', async () => {
    const all = await list({ first: 100 });
    // As people read (db/sort-key.ts): "Ärger" with the a's, "ÉTÉ 2024" with the e's.
    const sorted = [...all.edges.map((e) => e.node.name)].sort((a, b) =>
      sortKey(a) < sortKey(b) ? -1 : 1,
    );
    expect(all.edges.map((e) => e.node.name)).toEqual(sorted);
    const page1 = await list({ first: 3 });
    expect(page1.totalCount).toBe(all.totalCount);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await list({ first: 3, after: page1.pageInfo.endCursor });
    expect(page2.edges.map((e) => e.node.name)).toEqual(
      all.edges.slice(3, 6).map((e) => e.node.name),
    );
    expect((await list({ first: 3, offset: 3 })).edges).toEqual(page2.edges);
    expect(errorCode(await t.gql(TAGS, { first: 101 }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );

    const read = await apiToken(t, user.token, ['READ']);
    expect((await t.gql<TagsResult>(TAGS, {}, { token: read })).data!.tags.totalCount).toBe(
      all.totalCount,
    );
    const other = await apiToken(t, user.token, ['DOWNLOAD', 'UPLOAD', 'STATS']);
    expect(errorCode(await t.gql(TAGS, {}, { token: other }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(TAGS))).toBe('UNAUTHENTICATED');
  });

  it('counts files and downloads per tag, HIDDEN ones for admins only, and follows changes', async () => {
    const ids = await insertFiles(t, [
      { name: 'a', tags: ['Counted'], downloadCount: 3 },
      { name: 'b', tags: ['Counted'], downloadCount: 4, status: 'HIDDEN' },
      { name: 'c', tags: ['Counted', 'Other'], downloadCount: 5 },
    ]);
    const counted = async (token: string) =>
      (await list({ query: 'counted' }, token)).edges[0]!.node;
    expect(await counted(admin.token)).toMatchObject({ fileCount: 3, downloadCount: 12 });
    expect(await counted(user.token)).toMatchObject({ fileCount: 2, downloadCount: 8 });

    const db = t.server.connection.db;
    await db.updateTable('files').set({ status: 'ACTIVE' }).where('id', '=', ids[1]!).execute();
    await db
      .updateTable('files')
      .set((eb) => ({ download_count: eb('download_count', '+', 1) }))
      .where('id', '=', ids[0]!)
      .execute();
    expect(await counted(user.token)).toMatchObject({ fileCount: 3, downloadCount: 13 });
    await db.deleteFrom('files').where('id', '=', ids[2]!).execute();
    expect(await counted(admin.token)).toMatchObject({ fileCount: 2, downloadCount: 8 });
    expect((await list({ query: 'other' })).edges[0]!.node).toMatchObject({
      fileCount: 0,
      downloadCount: 0,
    });
  });

  it('orders by orderBy: name, newest, oldest, most files, most downloaded (viewer’s counts)', async () => {
    await insertFiles(t, [
      { name: 'o1', tags: ['Order Few'], downloadCount: 1 },
      { name: 'o2', tags: ['Order Many'], downloadCount: 1 },
      { name: 'o3', tags: ['Order Many'], downloadCount: 1 },
      { name: 'o4', tags: ['Order Hidden'], downloadCount: 50, status: 'HIDDEN' },
      { name: 'o5', tags: ['Order Hidden'], downloadCount: 50, status: 'HIDDEN' },
      { name: 'o6', tags: ['Order Hidden'], downloadCount: 50, status: 'HIDDEN' },
    ]);
    const ordered = async (orderBy: string, token = admin.token) =>
      (
        await t.gql<TagsResult>(
          `query($orderBy: TagOrder) { tags(query: "order ", orderBy: $orderBy, first: 10) {
            edges { node { id name fileCount downloadCount } } } }`,
          { orderBy },
          { token },
        )
      ).data!.tags.edges.map((e) => e.node.name);
    expect(await ordered('NAME')).toEqual(['Order Few', 'Order Hidden', 'Order Many']);
    expect(await ordered('MOST_FILES')).toEqual(['Order Hidden', 'Order Many', 'Order Few']);
    // A tag only HIDDEN files carry does not exist for users: its name would give them away.
    expect(await ordered('MOST_FILES', user.token)).toEqual(['Order Many', 'Order Few']);
    expect(await ordered('MOST_DOWNLOADED')).toEqual(['Order Hidden', 'Order Many', 'Order Few']);
    const newest = await ordered('NEWEST');
    expect(await ordered('OLDEST')).toEqual([...newest].reverse());
  });

  it('keeps counts right through uploads, retagging, hiding, downloads and deletion', async () => {
    const count = async (name: string, token = admin.token) =>
      (await list({ query: name }, token)).edges.find((e) => e.node.name === name)?.node;
    const file = await uploadOk(t, 'counted bytes', {
      filename: 'life.txt',
      tags: ['Lifecycle A', 'Lifecycle B'],
      token: admin.token,
    });
    expect(await count('Lifecycle A')).toMatchObject({ fileCount: 1, downloadCount: 0 });

    const res = await fetch(`${t.url}${file.downloadUrl}`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    await res.arrayBuffer();
    expect(await count('Lifecycle A')).toMatchObject({ fileCount: 1, downloadCount: 1 });

    const UPDATE_FILE = `mutation($id: ID!, $tags: [String!], $status: FileStatus) {
      updateFile(id: $id, tags: $tags, status: $status) { id } }`;
    await t.gql(
      UPDATE_FILE,
      { id: file.id, tags: ['Lifecycle B', 'Lifecycle C'] },
      {
        token: admin.token,
      },
    );
    expect(await count('Lifecycle A')).toMatchObject({ fileCount: 0, downloadCount: 0 });
    expect(await count('Lifecycle C')).toMatchObject({ fileCount: 1, downloadCount: 1 });

    await t.gql(UPDATE_FILE, { id: file.id, status: 'HIDDEN' }, { token: admin.token });
    expect(await count('Lifecycle C', user.token)).toBeUndefined();
    expect(await count('Lifecycle C')).toMatchObject({ fileCount: 1, downloadCount: 1 });

    await t.gql(
      `mutation($id: ID!) { deleteFile(id: $id) }`,
      { id: file.id },
      {
        token: admin.token,
      },
    );
    expect(await count('Lifecycle B')).toMatchObject({ fileCount: 0, downloadCount: 0 });
    expect(await count('Lifecycle C')).toMatchObject({ fileCount: 0, downloadCount: 0 });
  });
});
