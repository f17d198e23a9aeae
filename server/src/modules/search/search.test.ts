import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, insertFiles } from '../../../test/library.js';
import { searchTuning } from './search.service.js';

const FILES = `query($query: String, $tagIds: [ID!], $tagMatch: TagMatch, $status: FileStatus,
    $uploadedBy: ID, $orderBy: FileOrder, $first: Int, $after: String, $offset: Int) {
  files(query: $query, tagIds: $tagIds, tagMatch: $tagMatch, status: $status,
        uploadedBy: $uploadedBy, orderBy: $orderBy, first: $first, after: $after, offset: $offset) {
    totalCount
    edges { cursor node { name status } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    tagCounts { count tag { name } } } }`;

interface Listing {
  totalCount: number;
  edges: { cursor: string; node: { name: string; status: string } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  tagCounts: { count: number; tag: { name: string } }[];
}

// Each case runs three times: pages read from the candidate set, tag counts from SQL and names
// from the database's trigram index; then pages read by walking the order's index (its rows, or
// its ids and then their rows), tag counts from the postings and names from the name index in
// memory (what large libraries use); all must give the same answers.
describe.each([
  [
    'driving from candidates, tag counts in SQL, long queries from the trigram index',
    {
      driveLimit: 1_000_000,
      walkFactor: 5,
      tagCountsFromPostings: 1_000_000_000,
      walkRows: 500,
      longQueries: 'database' as const,
    },
  ],
  [
    'walking the order index, tag counts from postings, long queries from the name index',
    {
      driveLimit: 0,
      walkFactor: 1_000_000,
      tagCountsFromPostings: 0,
      walkRows: 500,
      longQueries: 'memory' as const,
    },
  ],
  [
    'walking ids of the order index, then reading their rows',
    {
      driveLimit: 0,
      walkFactor: 1_000_000,
      tagCountsFromPostings: 1_000_000_000,
      walkRows: 0,
      longQueries: 'memory' as const,
    },
  ],
])('files search, %s', (_label, tuning) => {
  const saved = { ...searchTuning };
  beforeAll(() => void Object.assign(searchTuning, tuning));
  afterAll(() => void Object.assign(searchTuning, saved));

  let t: TestServer;
  let admin: { token: string; id: string };
  let user: { token: string; id: string };
  const tagIds: Record<string, string> = {};

  const search = async (variables: Record<string, unknown>, token = user.token) =>
    (await t.data<{ files: Listing }>(FILES, { first: 100, ...variables }, { token })).files;
  const names = async (variables: Record<string, unknown>, token = user.token) =>
    (await search(variables, token)).edges.map((e) => e.node.name).sort();
  const fileNamed = (name: string) =>
    t.server.connection.db
      .selectFrom('files')
      .select('id')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    user = await t.signUp('user@example.com');
    const a = Number(admin.id);
    const u = Number(user.id);
    await insertFiles(t, [
      { name: 'Quarterly Report.pdf', tags: ['Finance', 'Reports'], uploadedBy: a, size: 500 },
      { name: 'Budget 2026.xlsx', tags: ['Finance'], uploadedBy: u, size: 300 },
      { name: 'Café menu.pdf', tags: ['Food'], uploadedBy: u, size: 100 },
      { name: 'STRASSE plan.png', tags: ['Maps'], uploadedBy: u, size: 50 },
      { name: 'Große Straße.jpg', tags: ['Maps', 'Photos'], uploadedBy: a, size: 700 },
      { name: '東京タワー 報告書.pdf', tags: ['Reports'], uploadedBy: a, size: 10 },
      { name: '100%_done [final]*?.txt', tags: [], uploadedBy: u, size: 5 },
      { name: '100 done final.txt', tags: ['Misc'], uploadedBy: u, size: 6 },
      { name: 'Secret report.pdf', tags: ['Finance', 'Secret'], status: 'HIDDEN', size: 900 },
      { name: 'Hidden café.txt', tags: ['Food'], status: 'HIDDEN', size: 1 },
    ]);
    const rows = await t.server.connection.db.selectFrom('tags').select(['id', 'name']).execute();
    for (const r of rows) tagIds[r.name] = String(r.id);
  });
  afterAll(() => t.close());

  it('matches a case-insensitive substring of the name, Unicode-aware', async () => {
    expect(await names({ query: 'QUARTERLY' })).toEqual(['Quarterly Report.pdf']);
    expect(await names({ query: 'café' })).toEqual(['Café menu.pdf']);
    expect(await names({ query: 'CAFÉ' })).toEqual(['Café menu.pdf']);
    expect(await names({ query: 'cafe' })).toEqual([]);
    expect(await names({ query: 'straße' })).toEqual(['Große Straße.jpg']);
    expect(await names({ query: 'STRASSE' })).toEqual(['STRASSE plan.png']);
    expect(await names({ query: 'ROSSE' })).toEqual([]);
    // Every two-letter piece is in the name, the whole is not: no match.
    for (const query of ['rer', 'ast', 'ona', 'ore']) expect(await names({ query })).toEqual([]);
    // CJK: three characters (trigram index) and two or one (no trigram: scan), same answers.
    expect(await names({ query: '報告書' })).toEqual(['東京タワー 報告書.pdf']);
    expect(await names({ query: '東京' })).toEqual(['東京タワー 報告書.pdf']);
    expect(await names({ query: 'ワ' })).toEqual(['東京タワー 報告書.pdf']);
    expect(await names({ query: 'nothing like this' })).toEqual([]);
  });

  it('follows renames', async () => {
    const db = t.server.connection.db;
    const rename = (from: string, to: string) =>
      db.updateTable('files').set({ name: to }).where('name', '=', from).execute();
    await rename('Budget 2026.xlsx', 'Haushalt 2026.xlsx');
    expect(await names({ query: 'haushalt' })).toEqual(['Haushalt 2026.xlsx']);
    expect(await names({ query: 'budget' })).toEqual([]);
    await rename('Haushalt 2026.xlsx', 'Budget 2026.xlsx');
    expect(await names({ query: 'budget' })).toEqual(['Budget 2026.xlsx']);
  });

  it('treats %, _, *, ? and [ as literal characters', async () => {
    expect(await names({ query: '%_' })).toEqual(['100%_done [final]*?.txt']);
    expect(await names({ query: '0_d' })).toEqual([]);
    expect(await names({ query: '[final]*?' })).toEqual(['100%_done [final]*?.txt']);
    expect(await names({ query: '*' })).toEqual(['100%_done [final]*?.txt']);
    expect(await names({ query: 'd?ne' })).toEqual([]);
    expect(await names({ query: '0 d' })).toEqual(['100 done final.txt']);
    // Nor is FTS5 query syntax special: quotes, operators, prefixes and groups are text.
    for (const query of ['a"b', '"""', 'x AND', 'done*', 'NEAR(a b)', '-100', 'name:x']) {
      expect(await names({ query })).toEqual([]);
    }
    expect(await names({ query: 'done final' })).toEqual(['100 done final.txt']);
  });

  it('refuses control characters in the query (found by the fuzz suite: NUL was internal)', async () => {
    const res = await t.gql(
      'query($q: String) { files(query: $q) { totalCount } }',
      {
        q: 'a\u0000b',
      },
      { token: user.token },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: { query: 'must not contain control characters' },
    });
  });

  it('matches tag names too', async () => {
    // "report": two names contain it; the CJK file only carries the tag "Reports".
    expect(await names({ query: 'report' })).toEqual([
      'Quarterly Report.pdf',
      '東京タワー 報告書.pdf',
    ]);
    expect(await names({ query: 'MAPS' })).toEqual(['Große Straße.jpg', 'STRASSE plan.png']);
    expect(await names({ query: 'oo' })).toEqual(['Café menu.pdf']); // via the tag "Food"
  });

  it('filters by tags with ALL or ANY', async () => {
    const both = [tagIds.Finance!, tagIds.Reports!];
    expect(await names({ tagIds: both })).toEqual(['Quarterly Report.pdf']);
    expect(await names({ tagIds: both, tagMatch: 'ALL' })).toEqual(['Quarterly Report.pdf']);
    expect(await names({ tagIds: both, tagMatch: 'ANY' })).toEqual([
      'Budget 2026.xlsx',
      'Quarterly Report.pdf',
      '東京タワー 報告書.pdf',
    ]);
    expect(await names({ tagIds: [tagIds.Maps!, tagIds.Food!], tagMatch: 'ALL' })).toEqual([]);
    expect(await names({ tagIds: ['999999'], tagMatch: 'ALL' })).toEqual([]);
    expect(await names({ tagIds: ['999999', tagIds.Food!], tagMatch: 'ANY' })).toEqual([
      'Café menu.pdf',
    ]);
    const unknownAny = { tagIds: ['999999', tagIds.Food!], tagMatch: 'ANY' };
    expect((await search(unknownAny)).totalCount).toBe(1);
    expect((await search({ ...unknownAny, query: 'menu' })).totalCount).toBe(1);
    expect((await search({ tagIds: ['999999', tagIds.Food!] })).totalCount).toBe(0);
    // Combined with a query: both must hold.
    expect(await names({ query: 'pdf', tagIds: [tagIds.Reports!] })).toEqual([
      'Quarterly Report.pdf',
      '東京タワー 報告書.pdf',
    ]);
    const bad = await t.gql(FILES, { tagIds: ['x'] }, { token: user.token });
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
  });

  it('counts tag filters afresh after links are added or removed', async () => {
    // The tags' file ids are kept in memory between requests (postings.ts).
    const both = { tagIds: [tagIds.Finance!, tagIds.Reports!] };
    const count = async (v: Record<string, unknown>) => (await search(v)).totalCount;
    expect(await count(both)).toBe(1);
    expect(await count({ ...both, tagMatch: 'ANY' })).toBe(3);
    const db = t.server.connection.db;
    const budget = await fileNamed('Budget 2026.xlsx');
    const link = { file_id: budget.id, tag_id: Number(tagIds.Reports) };
    await db.insertInto('file_tags').values(link).execute();
    expect(await count(both)).toBe(2);
    expect(await count({ ...both, tagMatch: 'ANY' })).toBe(3);
    expect(await count({ ...both, query: 'budget' })).toBe(1);
    await db
      .deleteFrom('file_tags')
      .where('file_id', '=', link.file_id)
      .where('tag_id', '=', link.tag_id)
      .execute();
    expect(await count(both)).toBe(1);
    expect(await count({ ...both, query: 'budget' })).toBe(0);
  });

  it('serves kept answers only while the names, links and tags they came from are unchanged', async () => {
    // Answers of the name index, their tag filters and their tag counts are kept between
    // requests (searchTuning.keepAnswers); each write below changes what they must say.
    const db = t.server.connection.db;
    const state = async () => {
      const shapes = [
        { query: 'e' },
        { query: 'e', tagIds: [tagIds.Finance!, tagIds.Maps!], tagMatch: 'ANY' },
        { query: 'e', tagIds: [tagIds.Finance!, tagIds.Maps!] },
        { tagIds: [tagIds.Finance!, tagIds.Maps!], tagMatch: 'ANY' },
        { tagIds: [tagIds.Finance!, tagIds.Maps!] },
      ];
      const out = [];
      for (const v of shapes) {
        const r = await search(v);
        out.push(r.edges.map((e) => e.node.name).sort(), r.tagCounts);
      }
      return out;
    };
    /** Asked twice (the second from what the first kept), and once computing everything. */
    const check = async () => {
      const first = await state();
      expect(await state()).toEqual(first);
      searchTuning.keepAnswers = false;
      try {
        expect(await state()).toEqual(first);
      } finally {
        searchTuning.keepAnswers = true;
      }
      return first;
    };
    const budget = await fileNamed('Budget 2026.xlsx');
    const link = { file_id: budget.id, tag_id: Number(tagIds.Maps) };
    const steps: [() => Promise<unknown>, () => Promise<unknown>][] = [
      [
        () => db.insertInto('file_tags').values(link).execute(),
        () =>
          db
            .deleteFrom('file_tags')
            .where('file_id', '=', link.file_id)
            .where('tag_id', '=', link.tag_id)
            .execute(),
      ],
      [
        () =>
          db.updateTable('tags').set({ name: 'Photoes' }).where('name', '=', 'Photos').execute(),
        () =>
          db.updateTable('tags').set({ name: 'Photos' }).where('name', '=', 'Photoes').execute(),
      ],
      [
        () =>
          db
            .updateTable('files')
            .set({ status: 'HIDDEN' })
            .where('name', '=', 'STRASSE plan.png')
            .execute(),
        () =>
          db
            .updateTable('files')
            .set({ status: 'ACTIVE' })
            .where('name', '=', 'STRASSE plan.png')
            .execute(),
      ],
    ];
    let before = await check();
    for (const [write] of steps) {
      await write();
      const after = await check();
      expect(after).not.toEqual(before);
      before = after;
    }
    for (const [, undo] of steps.reverse()) await undo();
  });

  it('answers name queries from memory exactly after another instance writes', async () => {
    // They come from a per-process index (name-index.ts) that learns of writes only through
    // the change log the triggers keep: a write straight to the database is one it never saw.
    const db = t.server.connection.db;
    expect(await names({ query: 'zq' })).toEqual([]);
    expect(await names({ query: 'q' }, admin.token)).not.toContain('Zq notes.txt');
    const [id] = await insertFiles(t, [{ name: 'Zq notes.txt', uploadedBy: Number(user.id) }]);
    expect(await names({ query: 'zq' })).toEqual(['Zq notes.txt']);
    expect(await names({ query: 'Z' })).toContain('Zq notes.txt');
    expect(await names({ query: 'zq', uploadedBy: user.id })).toEqual(['Zq notes.txt']);
    expect(await names({ query: 'zq', uploadedBy: admin.id })).toEqual([]);
    expect(await names({ query: 'zq no' })).toEqual(['Zq notes.txt']);
    expect(await names({ query: 'q notes', uploadedBy: user.id })).toEqual(['Zq notes.txt']);
    await db.updateTable('files').set({ name: 'Qz notes.txt' }).where('id', '=', id!).execute();
    expect(await names({ query: 'zq' })).toEqual([]);
    expect(await names({ query: 'zq no' })).toEqual([]);
    expect(await names({ query: 'qz' })).toEqual(['Qz notes.txt']);
    expect(await names({ query: 'qz notes' })).toEqual(['Qz notes.txt']);
    await db.updateTable('files').set({ status: 'HIDDEN' }).where('id', '=', id!).execute();
    expect(await names({ query: 'qz' })).toEqual([]);
    expect(await names({ query: 'qz notes' })).toEqual([]);
    expect((await search({ query: 'qz' }, admin.token)).totalCount).toBe(1);
    expect((await search({ query: 'qz notes' }, admin.token)).totalCount).toBe(1);
    // Files the index was built with, renamed: their names in memory are no longer trusted.
    const renamed = { from: 'Café menu.pdf', to: 'Bistro carte.pdf' };
    await db
      .updateTable('files')
      .set({ name: renamed.to })
      .where('name', '=', renamed.from)
      .execute();
    expect(await names({ query: 'menu' })).toEqual([]);
    expect(await names({ query: 'ro car' })).toEqual([renamed.to]);
    await db
      .updateTable('files')
      .set({ name: renamed.from })
      .where('name', '=', renamed.to)
      .execute();
    expect(await names({ query: 'menu' })).toEqual([renamed.from]);
    await db.deleteFrom('files').where('id', '=', id!).execute();
    expect((await search({ query: 'qz' }, admin.token)).totalCount).toBe(0);
    expect((await search({ query: 'qz notes' }, admin.token)).totalCount).toBe(0);
  });

  it('counts the whole filtered result, not the page, and tags by count then name', async () => {
    const page = await search({ query: 'a', first: 2 });
    expect(page.edges).toHaveLength(2);
    // Names holding "a", plus "Budget 2026.xlsx" through its tag "Finance".
    expect(page.totalCount).toBe(7);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.tagCounts.map((c) => [c.tag.name, c.count])).toEqual([
      ['Finance', 2],
      ['Maps', 2],
      ['Food', 1],
      ['Misc', 1],
      ['Photos', 1],
      ['Reports', 1],
    ]);
    const all = await search({ first: 0 });
    expect(all.edges).toEqual([]);
    expect(all.totalCount).toBe(8);
    expect(all.tagCounts.map((c) => [c.tag.name, c.count])).toEqual([
      ['Finance', 2],
      ['Maps', 2],
      ['Reports', 2],
      ['Food', 1],
      ['Misc', 1],
      ['Photos', 1],
    ]);
  });

  it('never shows or counts HIDDEN files to USERs; admins see and filter them', async () => {
    const mine = await search({ query: 'secret' });
    expect(mine.totalCount).toBe(0);
    expect(mine.tagCounts).toEqual([]);
    const finance = await search({ tagIds: [tagIds.Finance!] });
    expect(finance.totalCount).toBe(2);
    expect(finance.tagCounts.find((c) => c.tag.name === 'Secret')).toBeUndefined();
    expect((await search({ status: 'HIDDEN' })).totalCount).toBe(0);
    expect((await search({ status: 'ACTIVE' })).totalCount).toBe(8);

    const adminAll = await search({ first: 0 }, admin.token);
    expect(adminAll.totalCount).toBe(10);
    expect(adminAll.tagCounts.slice(0, 2)).toEqual([
      { count: 3, tag: { name: 'Finance' } },
      { count: 2, tag: { name: 'Food' } },
    ]);
    expect(await names({ status: 'HIDDEN' }, admin.token)).toEqual([
      'Hidden café.txt',
      'Secret report.pdf',
    ]);
    const hiddenFinance = await search(
      { status: 'HIDDEN', tagIds: [tagIds.Finance!] },
      admin.token,
    );
    expect(hiddenFinance.totalCount).toBe(1);
    expect(hiddenFinance.tagCounts.map((c) => c.tag.name)).toEqual(['Finance', 'Secret']);
    // Hiding a file takes it out of every count at once (its tag links follow its status).
    const db = t.server.connection.db;
    const setStatus = (status: 'ACTIVE' | 'HIDDEN') =>
      db.updateTable('files').set({ status }).where('name', '=', 'Quarterly Report.pdf').execute();
    await setStatus('HIDDEN');
    const both = { tagIds: [tagIds.Finance!, tagIds.Reports!] };
    expect((await search({ tagIds: [tagIds.Finance!] })).totalCount).toBe(1);
    expect((await search(both)).totalCount).toBe(0);
    expect((await search(both, admin.token)).totalCount).toBe(1);
    expect((await search({ ...both, status: 'HIDDEN' }, admin.token)).totalCount).toBe(1);
    await setStatus('ACTIVE');
    expect((await search(both)).totalCount).toBe(1);
    expect((await search({ ...both, status: 'HIDDEN' }, admin.token)).totalCount).toBe(0);
    expect(await names({ query: 'CAFÉ' }, admin.token)).toEqual([
      'Café menu.pdf',
      'Hidden café.txt',
    ]);
  });

  it('filters by uploader', async () => {
    expect(await names({ uploadedBy: admin.id })).toEqual([
      'Große Straße.jpg',
      'Quarterly Report.pdf',
      '東京タワー 報告書.pdf',
    ]);
    const mine = await search({ uploadedBy: user.id, query: 'done' });
    expect(mine.totalCount).toBe(2);
  });

  it('orders by newest, oldest, name, size and downloads, stably', async () => {
    const order = async (orderBy: string) =>
      (await search({ orderBy })).edges.map((e) => e.node.name);
    const newest = await order('NEWEST');
    expect(newest[0]).toBe('100 done final.txt');
    expect(await order('OLDEST')).toEqual([...newest].reverse());
    expect((await order('LARGEST')).slice(0, 3)).toEqual([
      'Große Straße.jpg',
      'Quarterly Report.pdf',
      'Budget 2026.xlsx',
    ]);
    const byName = await order('NAME');
    expect(byName.slice(0, 3)).toEqual([
      '100 done final.txt',
      '100%_done [final]*?.txt',
      'Budget 2026.xlsx',
    ]);
    expect(await order('MOST_DOWNLOADED')).toHaveLength(8);
  });

  it('orders and pages a query’s result like the unfiltered listing', async () => {
    for (const orderBy of ['NEWEST', 'OLDEST', 'NAME', 'LARGEST', 'MOST_DOWNLOADED']) {
      const everything = (await search({ orderBy })).edges.map((e) => e.node.name);
      const matching = new Set(await names({ query: 'a' }));
      const expected = everything.filter((n) => matching.has(n));
      const firstPage = await search({ orderBy, query: 'a', first: 3 });
      const rest = await search({ orderBy, query: 'a', first: 10, offset: 3 });
      expect([...firstPage.edges, ...rest.edges].map((e) => e.node.name)).toEqual(expected);
    }
  });

  it('pages by offset and by cursor over the same order', async () => {
    const all = (await search({ orderBy: 'NAME' })).edges.map((e) => e.node.name);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Listing = await search({ orderBy: 'NAME', first: 3, after });
      seen.push(...page.edges.map((e) => e.node.name));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all);
    const third = await search({ orderBy: 'NAME', first: 3, offset: 6 });
    expect(third.edges.map((e) => e.node.name)).toEqual(all.slice(6, 9));
    expect(third.pageInfo.hasPreviousPage).toBe(true);
    expect(errorCode(await t.gql(FILES, { first: 101 }, { token: user.token }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('is open to READ tokens only', async () => {
    const read = await apiToken(t, user.token, ['READ']);
    expect((await search({ query: 'report' }, read)).totalCount).toBe(2);
    const other = await apiToken(t, user.token, ['DOWNLOAD', 'UPLOAD', 'STATS']);
    expect(errorCode(await t.gql(FILES, {}, { token: other }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(FILES))).toBe('UNAUTHENTICATED');
  });
});

describe('files and tags by NAME', () => {
  let t: TestServer;
  afterAll(() => t?.close());

  it('sort as people read: ignoring case and accents, numbers by value', async () => {
    t = await startTestServer();
    const admin = await t.signUp('admin@example.com');
    const [renamed] = await insertFiles(t, [
      { name: 'zz placeholder', tags: ['tag 10', 'Tag 2', 'alpha'] },
      { name: 'Salary bands 2026.xlsx' },
      { name: 'Team photo.jpg' },
      { name: 'Board minutes.pdf' },
      { name: 'file 10.txt' },
      { name: 'file 2.txt' },
      { name: 'Éclair.png' },
      { name: 'apple.txt' },
    ]);
    // A rename through the API must move the file in the order too.
    const rename = await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, name: "big-random.bin") { name } }`,
      { id: String(renamed) },
      { token: admin.token },
    );
    expect(rename.errors).toBeUndefined();
    /** Names of the first page by NAME, with the query if any, as the admin sees them. */
    const byName = async (query?: string) => {
      const res = await t.gql<{ files: { edges: { node: { name: string } }[] } }>(
        `query($query: String) { files(query: $query, orderBy: NAME, first: 20) {
          edges { node { name } } } }`,
        query ? { query } : {},
        { token: admin.token },
      );
      return res.data!.files.edges.map((e) => e.node.name);
    };
    expect(await byName()).toEqual([
      'apple.txt',
      'big-random.bin',
      'Board minutes.pdf',
      'Éclair.png',
      'file 2.txt',
      'file 10.txt',
      'Salary bands 2026.xlsx',
      'Team photo.jpg',
    ]);
    // The same order for a one-character query (answered from the in-memory index).
    expect(await byName('i')).toEqual([
      'big-random.bin',
      'Board minutes.pdf',
      'Éclair.png',
      'file 2.txt',
      'file 10.txt',
    ]);
    const tags = await t.gql<{ tags: { edges: { node: { name: string } }[] } }>(
      `{ tags(orderBy: NAME, first: 20) { edges { node { name } } } }`,
      {},
      { token: admin.token },
    );
    expect(tags.data!.tags.edges.map((e) => e.node.name)).toEqual(['alpha', 'Tag 2', 'tag 10']);
  });
});

describe('the name index at start', () => {
  const saved = searchTuning.warmAbove;
  afterAll(() => void (searchTuning.warmAbove = saved));

  it('is built in the background, before any search, on a library larger than warmAbove', async () => {
    searchTuning.warmAbove = -1;
    const t = await startTestServer();
    try {
      await vi.waitFor(() => expect(t.server.app.services.files.nameIndexReady()).toBe(true), {
        timeout: 20_000,
        interval: 20,
      });
    } finally {
      await t.close();
    }
  });

  it('is left to the first query on a smaller library', async () => {
    searchTuning.warmAbove = saved;
    const t = await startTestServer();
    try {
      await t.server.app.services.files.warmUpSearch();
      expect(t.server.app.services.files.nameIndexReady()).toBe(false);
    } finally {
      await t.close();
    }
  });
});
