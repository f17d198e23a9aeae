import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { insertDownloads, insertFiles } from '../../../test/library.js';
import { runDoctor } from '../maintenance/doctor.js';
import { foldTagLinkMoves } from '../stats/tag-moves.js';

const SET_STATUS = `mutation($ids: [ID!]!, $status: FileStatus!) {
  setFilesStatus(ids: $ids, status: $status) { id status } }`;
const TAG = `mutation($ids: [ID!]!, $add: [String!], $remove: [String!]) {
  tagFiles(ids: $ids, add: $add, remove: $remove) { id tags { name } } }`;
const DELETE_MANY = `mutation($ids: [ID!]!) { deleteFiles(ids: $ids) }`;
const RESTORE_MANY = `mutation($ids: [ID!]!) { restoreFiles(ids: $ids) { id tags { name } } }`;
const PURGE_MANY = `mutation($ids: [ID!]!) { purgeFiles(ids: $ids) }`;
const DELETE_ONE = `mutation($id: ID!) { deleteFile(id: $id) }`;
const DAY = 86_400_000;
const EVENTS = `query($action: String) { auditEvents(action: $action, first: 100) { totalCount
  edges { node { action targetId actor { id } details } } } }`;

describe('bulk file actions', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };

  const gql = <T>(query: string, vars: Record<string, unknown>, token: string) =>
    t.data<T>(query, vars, { token });
  const files = (spec: {
    n: number;
    owner: string;
    status?: 'ACTIVE' | 'HIDDEN';
    tags?: string[];
  }) =>
    insertFiles(
      t,
      Array.from({ length: spec.n }, (_, i) => ({
        name: `bulk-${i}`,
        uploadedBy: Number(spec.owner),
        status: spec.status ?? 'ACTIVE',
        tags: spec.tags ?? [],
      })),
    ).then((ids) => ids.map(String));
  const state = async (ids: string[]) => {
    const rows = await t.server.connection.db
      .selectFrom('files')
      .select(['id', 'status', 'updated_at'])
      .where('id', 'in', ids.map(Number))
      .orderBy('id')
      .execute();
    const trashed = await t.server.connection.db
      .selectFrom('trashed_files')
      .select('id')
      .where('id', 'in', ids.map(Number))
      .execute();
    return { rows, trashed: trashed.length };
  };
  const eventCount = async (action: string) =>
    (await gql<{ auditEvents: { totalCount: number } }>(EVENTS, { action }, admin.token))
      .auditEvents.totalCount;

  beforeAll(async () => {
    t = await startTestServer({ TRASH_DAYS: '30' });
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
    bob = await t.signUp('bob@example.com');
  });
  afterAll(() => t.close());

  it('hides, retags and trashes 500 files in one request each, with one audit event per file', async () => {
    const ids = await files({ n: 500, owner: alice.id, tags: ['Old'] });
    const hidden = await gql<{ setFilesStatus: { id: string; status: string }[] }>(
      SET_STATUS,
      { ids, status: 'HIDDEN' },
      admin.token,
    );
    expect(hidden.setFilesStatus).toHaveLength(500);
    expect(hidden.setFilesStatus.every((f) => f.status === 'HIDDEN')).toBe(true);
    expect(await eventCount('file.status')).toBe(500);

    const tagged = await gql<{ tagFiles: { id: string; tags: { name: string }[] }[] }>(
      TAG,
      { ids, add: ['New', 'Q4'], remove: ['old'] },
      admin.token,
    );
    expect(tagged.tagFiles.map((f) => f.id)).toEqual(ids);
    expect(tagged.tagFiles.every((f) => f.tags.map((x) => x.name).join() === 'New,Q4')).toBe(true);
    expect(await eventCount('file.tags')).toBe(500);
    const tagCounts = await gql<{
      tags: { edges: { node: { name: string; fileCount: number } }[] };
    }>(`{ tags(first: 10) { edges { node { name fileCount } } } }`, {}, admin.token);
    expect(tagCounts.tags.edges.map((e) => e.node)).toEqual(
      expect.arrayContaining([
        { name: 'New', fileCount: 500 },
        { name: 'Q4', fileCount: 500 },
      ]),
    );

    // Retagging again changes nothing and records nothing.
    await gql(TAG, { ids, add: ['New'] }, admin.token);
    expect(await eventCount('file.tags')).toBe(500);

    const deleted = await gql<{ deleteFiles: number }>(DELETE_MANY, { ids }, admin.token);
    expect(deleted.deleteFiles).toBe(500);
    expect(await state(ids)).toEqual({ rows: [], trashed: 500 });
    const events = await gql<{
      auditEvents: { totalCount: number; edges: { node: { actor: { id: string } } }[] };
    }>(EVENTS, { action: 'file.delete' }, admin.token);
    expect(events.auditEvents.totalCount).toBe(500);
    expect(events.auditEvents.edges[0]!.node.actor.id).toBe(admin.id);
  });

  it("records each file's name in its audit event exactly, whatever characters it holds", async () => {
    // On PostgreSQL the events travel as arrays: quotes, backslashes, braces, commas and the
    // word NULL are what an array literal would get wrong.
    const names = ['say "hi"', 'back\\slash', '{braces},comma', 'NULL', 'ünï 🗂️', "it's"];
    const ids = (
      await insertFiles(
        t,
        names.map((name) => ({ name, uploadedBy: Number(alice.id), status: 'ACTIVE', tags: [] })),
      )
    ).map(String);
    await gql(DELETE_MANY, { ids }, alice.token);
    const events = await gql<{
      auditEvents: { edges: { node: { targetId: string; targetLabel: string | null } }[] };
    }>(
      `{ auditEvents(action: "file.delete", first: 100) { edges { node { targetId targetLabel } } } }`,
      {},
      admin.token,
    );
    const labels = new Map(
      events.auditEvents.edges.map((e) => [e.node.targetId, e.node.targetLabel]),
    );
    expect(ids.map((id) => labels.get(id))).toEqual(names);
  });

  it('answers a retag with the files as stored: new updatedAt on those it changed, the old on the rest', async () => {
    const [tagged, plain] = await Promise.all([
      files({ n: 2, owner: alice.id, tags: ['Done'] }),
      files({ n: 2, owner: alice.id }),
    ]);
    const ids = [...tagged!, ...plain!];
    // A second in the past, so "later" cannot fall in the same millisecond.
    await t.server.connection.db
      .updateTable('files')
      .set((eb) => ({ updated_at: eb('updated_at', '-', 1000) }))
      .where('id', 'in', ids.map(Number))
      .execute();
    const before = await state(ids);
    const res = await gql<{
      tagFiles: { id: string; updatedAt: string; tags: { name: string }[] }[];
    }>(
      `mutation($ids: [ID!]!) { tagFiles(ids: $ids, add: ["Done"]) { id updatedAt tags { name } } }`,
      { ids },
      alice.token,
    );
    const after = await state(ids);
    // What the mutation answered is what a fresh read finds, in id order.
    expect(res.tagFiles.map((f) => [f.id, Date.parse(f.updatedAt)])).toEqual(
      after.rows.map((r) => [String(r.id), r.updated_at]),
    );
    const stamp = (rows: typeof before.rows, id: string) =>
      rows.find((r) => String(r.id) === id)!.updated_at;
    for (const id of tagged!) expect(stamp(after.rows, id)).toBe(stamp(before.rows, id));
    for (const id of plain!) expect(stamp(after.rows, id)).toBeGreaterThan(stamp(before.rows, id));
    expect(res.tagFiles.every((f) => f.tags.some((x) => x.name === 'Done'))).toBe(true);
  });

  it('changes nothing when one file in the middle is forbidden or unseen', async () => {
    const mine = await files({ n: 4, owner: alice.id, tags: ['Keep'] });
    const [bobs] = await files({ n: 1, owner: bob.id });
    const [hiddenOfAlice] = await files({ n: 1, owner: alice.id, status: 'HIDDEN' });
    const before = await state([...mine, bobs!]);
    const eventsBefore = (
      await gql<{ auditEvents: { totalCount: number } }>(EVENTS, {}, admin.token)
    ).auditEvents.totalCount;

    const withBob = [mine[0], mine[1], bobs, mine[2], mine[3]];
    for (const [query, vars] of [
      [DELETE_MANY, { ids: withBob }],
      [TAG, { ids: withBob, add: ['X'], remove: ['Keep'] }],
    ] as const) {
      const res = await t.gql(query, vars, { token: alice.token });
      expect(errorCode(res)).toBe('FORBIDDEN');
    }
    // FORBIDDEN and NOT_FOUND list the files at fault in `extensions.ids`.
    const forbidden = await t.gql(DELETE_MANY, { ids: withBob }, { token: alice.token });
    expect(forbidden.errors?.[0]?.extensions?.ids).toEqual([bobs]);
    // A file she cannot see and one that does not exist are NOT_FOUND alike: both listed, the
    // message names neither, and nothing tells the two apart.
    const unseen = await t.gql(
      DELETE_MANY,
      { ids: ['99999999', mine[0], hiddenOfAlice] },
      { token: alice.token },
    );
    expect(errorCode(unseen)).toBe('NOT_FOUND');
    expect(unseen.errors?.[0]?.extensions?.ids).toEqual([hiddenOfAlice, '99999999']);
    expect(unseen.errors?.[0]?.message).not.toMatch(/\d/);
    for (const missing of [hiddenOfAlice, '99999999']) {
      const res = await t.gql(DELETE_MANY, { ids: [mine[0], missing] }, { token: alice.token });
      expect(errorCode(res)).toBe('NOT_FOUND');
      expect(res.errors?.[0]).toEqual({
        ...unseen.errors![0],
        extensions: { code: 'NOT_FOUND', ids: [missing] },
      });
    }
    // USERs may not change status at all.
    expect(
      errorCode(await t.gql(SET_STATUS, { ids: mine, status: 'HIDDEN' }, { token: alice.token })),
    ).toBe('FORBIDDEN');
    expect(await state([...mine, bobs!])).toEqual(before);
    const tags = await gql<{ tagFiles: unknown }>(TAG, { ids: mine, add: [] }, alice.token);
    expect(tags.tagFiles).toHaveLength(4);
    expect(
      (await gql<{ auditEvents: { totalCount: number } }>(EVENTS, {}, admin.token)).auditEvents
        .totalCount,
    ).toBe(eventsBefore);

    // Her own files alone: done.
    expect(await gql(DELETE_MANY, { ids: mine }, alice.token)).toEqual({ deleteFiles: 4 });
  });

  it('restores and purges many trashed files in one request each, the trash showing their tags', async () => {
    const ids = await files({ n: 5, owner: alice.id, tags: ['Keep', 'Drop'] });
    expect(await gql(DELETE_MANY, { ids }, alice.token)).toEqual({ deleteFiles: 5 });
    // The trash shows each file's tags as they were, minus a tag deleted since.
    const dropped = await t.server.connection.db
      .selectFrom('tags')
      .select('id')
      .where('name_key', '=', 'drop')
      .executeTakeFirstOrThrow();
    const delTag = await t.gql(
      `mutation($id: ID!) { deleteTag(id: $id) }`,
      { id: String(dropped.id) },
      { token: admin.token },
    );
    expect(delTag.errors).toBeUndefined();
    const trash = await gql<{
      trash: { edges: { node: { id: string; tags: { name: string }[] } }[] };
    }>(`{ trash(first: 100) { edges { node { id tags { name } } } } }`, {}, alice.token);
    const listed = trash.trash.edges.map((e) => e.node).filter((n) => ids.includes(n.id));
    expect(listed).toHaveLength(5);
    for (const n of listed) expect(n.tags).toEqual([{ name: 'Keep' }]);

    const before = await eventCount('file.restore');
    const [first, ...rest] = ids;
    const restored = await gql<{ restoreFiles: { id: string; tags: { name: string }[] }[] }>(
      RESTORE_MANY,
      { ids: [...rest].reverse() },
      alice.token,
    );
    expect(restored.restoreFiles.map((f) => f.id)).toEqual(rest);
    expect(restored.restoreFiles.every((f) => f.tags.map((x) => x.name).join() === 'Keep')).toBe(
      true,
    );
    expect(await state(ids)).toMatchObject({ trashed: 1 });
    expect(await eventCount('file.restore')).toBe(before + 4);
    const events = await gql<{ auditEvents: { edges: { node: { details: string } }[] } }>(
      EVENTS,
      { action: 'file.restore' },
      admin.token,
    );
    expect(JSON.parse(events.auditEvents.edges[0]!.node.details)).toMatchObject({ bulk: true });

    // One file not in the trash (any more) refuses the whole request, naming it.
    const again = await t.gql(RESTORE_MANY, { ids: [first, rest[0]] }, { token: alice.token });
    expect(errorCode(again)).toBe('NOT_FOUND');
    expect(again.errors?.[0]?.extensions?.ids).toEqual([rest[0]]);
    expect(await state(ids)).toMatchObject({ trashed: 1 });

    // Someone else's trashed files: FORBIDDEN for a USER, naming them; an admin may.
    expect(await gql(DELETE_MANY, { ids: rest }, alice.token)).toEqual({ deleteFiles: 4 });
    for (const query of [RESTORE_MANY, PURGE_MANY]) {
      const res = await t.gql(query, { ids: [first, rest[1]] }, { token: bob.token });
      expect(errorCode(res)).toBe('FORBIDDEN');
      expect(res.errors?.[0]?.extensions?.ids).toEqual([first, rest[1]].sort());
    }
    expect(await state(ids)).toMatchObject({ trashed: 5 });

    const purgesBefore = await eventCount('file.purge');
    expect(await gql(PURGE_MANY, { ids: [first, rest[0]] }, admin.token)).toEqual({
      purgeFiles: 2,
    });
    expect(await eventCount('file.purge')).toBe(purgesBefore + 2);
    expect(await state(ids)).toEqual({ rows: [], trashed: 3 });
    const gone = await t.gql(PURGE_MANY, { ids: [first, rest[1]] }, { token: alice.token });
    expect(errorCode(gone)).toBe('NOT_FOUND');
    expect(gone.errors?.[0]?.extensions?.ids).toEqual([first]);
    expect(await state(ids)).toEqual({ rows: [], trashed: 3 });
    expect(await gql(PURGE_MANY, { ids: rest.slice(1) }, alice.token)).toEqual({ purgeFiles: 3 });
    expect(await state(ids)).toEqual({ rows: [], trashed: 0 });
  });

  it('trashes and restores many files with their own downloads, tags and counters', async () => {
    const ids = await files({ n: 4, owner: alice.id, tags: ['Counted'] });
    // 3, 2, 1 and 0 downloads: each file must get back exactly its own.
    await insertDownloads(
      t,
      ids.flatMap((id, i) =>
        Array.from({ length: 3 - i }, (_, k) => ({ fileId: Number(id), at: Date.now() - k })),
      ),
    );
    const view = `query($id: ID!) { file(id: $id) { downloadCount tags { name } }
      downloads(fileId: $id) { totalCount } }`;
    const look = () =>
      Promise.all(ids.map((id) => gql<Record<string, unknown>>(view, { id }, admin.token)));
    const counted = () =>
      gql<{ tags: { edges: { node: { fileCount: number } }[] } }>(
        `{ tags(query: "Counted") { edges { node { fileCount } } } }`,
        {},
        admin.token,
      ).then((r) => r.tags.edges[0]!.node);
    const before = await look();
    expect(before.map((v) => v.downloads)).toEqual(
      [3, 2, 1, 0].map((totalCount) => ({ totalCount })),
    );
    expect(await counted()).toEqual({ fileCount: 4 });

    expect(await gql(DELETE_MANY, { ids }, alice.token)).toEqual({ deleteFiles: 4 });
    expect(await counted()).toEqual({ fileCount: 0 });
    // In the trash the downloads stay under their file's id (a restore has nothing to move
    // back), while every reader takes the file for deleted.
    const kept = await t.server.connection.db
      .selectFrom('downloads')
      .select(['file_id'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('file_id', 'in', ids.map(Number))
      .groupBy('file_id')
      .orderBy('file_id')
      .execute();
    expect(kept.map((r) => [String(r.file_id), Number(r.n)])).toEqual([
      [ids[0], 3],
      [ids[1], 2],
      [ids[2], 1],
    ]);
    expect(await look()).toEqual(ids.map(() => ({ file: null, downloads: { totalCount: 0 } })));

    await gql(RESTORE_MANY, { ids }, alice.token);
    expect(await look()).toEqual(before);
    expect(await counted()).toEqual({ fileCount: 4 });
    expect(await state(ids)).toMatchObject({ trashed: 0 });
  });

  it('refuses malformed, empty, oversized and unauthenticated requests with coded errors', async () => {
    const [one] = await files({ n: 1, owner: alice.id });
    const cases: [string, Record<string, unknown>, string][] = [
      [DELETE_MANY, { ids: [] }, 'BAD_USER_INPUT'],
      [DELETE_MANY, { ids: ['abc'] }, 'BAD_USER_INPUT'],
      [DELETE_MANY, { ids: ['-1'] }, 'BAD_USER_INPUT'],
      [
        DELETE_MANY,
        { ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) },
        'BAD_USER_INPUT',
      ],
      [DELETE_MANY, { ids: Array.from({ length: 200_000 }, () => '1') }, 'BAD_USER_INPUT'],
      [DELETE_MANY, { ids: 'nope' }, 'BAD_USER_INPUT'],
      [RESTORE_MANY, { ids: [] }, 'BAD_USER_INPUT'],
      [RESTORE_MANY, { ids: ['abc'] }, 'BAD_USER_INPUT'],
      [PURGE_MANY, { ids: [] }, 'BAD_USER_INPUT'],
      [
        PURGE_MANY,
        { ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) },
        'BAD_USER_INPUT',
      ],
      [TAG, { ids: [one], add: [''] }, 'BAD_USER_INPUT'],
      [TAG, { ids: [one], add: ['x'.repeat(41)] }, 'BAD_USER_INPUT'],
      [TAG, { ids: [one], add: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'BAD_USER_INPUT'],
      [SET_STATUS, { ids: [one], status: 'GONE' }, 'BAD_USER_INPUT'],
    ];
    for (const [query, vars, code] of cases) {
      const res = await t.gql(query, vars, { token: admin.token });
      expect(errorCode(res), JSON.stringify(vars).slice(0, 80)).toBe(code);
    }
    const bad = await t.gql(DELETE_MANY, { ids: [] }, { token: admin.token });
    expect(bad.errors?.[0]?.extensions?.fields).toHaveProperty('ids');
    for (const query of [DELETE_MANY, RESTORE_MANY, PURGE_MANY]) {
      expect(errorCode(await t.gql(query, { ids: [one] }))).toBe('UNAUTHENTICATED');
    }
    // Replayed: the second is NOT_FOUND, the file is trashed once.
    expect(await gql(DELETE_MANY, { ids: [one, one] }, alice.token)).toEqual({ deleteFiles: 1 });
    expect(errorCode(await t.gql(DELETE_MANY, { ids: [one] }, { token: alice.token }))).toBe(
      'NOT_FOUND',
    );
    expect(await state([one!])).toEqual({ rows: [], trashed: 1 });
  });

  it('stays consistent under concurrent bulk and single deletes of the same files', async () => {
    const ids = await files({ n: 60, owner: alice.id, tags: ['Race'] });
    const groups = [ids.slice(0, 30), ids.slice(20, 50), ids.slice(40)];
    const results = await Promise.all([
      ...groups.map((g) =>
        t.gql<{ deleteFiles: number }>(DELETE_MANY, { ids: g }, { token: alice.token }),
      ),
      ...ids
        .filter((_, i) => i % 7 === 0)
        .map((id) => t.gql(DELETE_ONE, { id }, { token: alice.token })),
      t.gql(TAG, { ids: ids.slice(10, 40), add: ['Late'] }, { token: alice.token }),
    ]);
    for (const r of results) {
      if (r.errors) expect(errorCode(r)).toBe('NOT_FOUND');
    }
    const trashed = await state(ids);
    // Every file is either still there or trashed exactly once, never both, never lost.
    expect(trashed.rows.length + trashed.trashed).toBe(60);
    const deletedEvents = await t.server.connection.db
      .selectFrom('audit_events')
      .select('target_id')
      .where('action', '=', 'file.delete')
      .where('target_id', 'in', ids)
      .execute();
    expect(deletedEvents.length).toBe(trashed.trashed);
    expect(new Set(deletedEvents.map((e) => e.target_id)).size).toBe(trashed.trashed);
    // The tag's count matches the files that are left with it.
    const left = await t.server.connection.db
      .selectFrom('file_tags')
      .innerJoin('tags', 'tags.id', 'file_tags.tag_id')
      .select('file_tags.file_id')
      .where('tags.name_key', '=', 'race')
      .execute();
    expect(left.length).toBe(trashed.rows.length);
  });

  /** The doctor's findings about counters and the search index (test files have no objects). */
  const counterFindings = async () => {
    const { db, dialect } = t.server.connection;
    const report = await runDoctor({ db, dialect, storage: t.server.storage }, { repair: false });
    return report.checks
      .filter((c) => c.id === 'counters' || c.id === 'search-index')
      .flatMap((c) => c.findings.map((f) => f.message))
      .sort();
  };

  /**
   * download_days and download_totals as stored (zero rows left out) and recounted, once the
   * tags' moves are folded in, as every read of them does first (PostgreSQL).
   */
  const rollups = async () => {
    const { db, dialect } = t.server.connection;
    await foldTagLinkMoves(db, dialect);
    type Key = { kind: string; id: number; day: number; n: number };
    const recount = (byDay: boolean) => sql<Key>`
      select kind, id, ${byDay ? sql`day` : sql`0`} as day, count(*) as n from (
        select 'file' as kind, file_id as id, at - at % ${DAY} as day from downloads
          where file_id is not null
        union all
        select 'user', user_id, at - at % ${DAY} from downloads where user_id is not null
        union all
        select 'tag', ft.tag_id, d.at - d.at % ${DAY} from downloads d
          join file_tags ft on ft.file_id = d.file_id
      ) x group by kind, id${byDay ? sql`, day` : sql``}`;
    const norm = (rows: Key[]) =>
      rows
        .filter((r) => Number(r.n) !== 0)
        .map((r) => `${r.kind} ${r.id} ${r.day} ${r.n}`)
        .sort();
    const days = await db
      .selectFrom('download_days')
      .select(['kind', 'id', 'day', 'downloads as n'])
      .execute();
    const totals = await db
      .selectFrom('download_totals')
      .select(['kind', 'id', sql<number>`0`.as('day'), 'downloads as n'])
      .execute();
    return {
      stored: { days: norm(days), totals: norm(totals) },
      counted: {
        days: norm((await recount(true).execute(db)).rows),
        totals: norm((await recount(false).execute(db)).rows),
      },
    };
  };

  // On PostgreSQL each bulk statement fires statement-level triggers that aggregate over all its
  // rows (migration 2026-12-06T1000b), on SQLite row triggers: either way every counter must
  // equal a count over the rows afterwards.
  it('keeps every counter exact through hide, show, retag, trash, restore and purge', async () => {
    const db = t.server.connection.db;
    const ids = (
      await Promise.all([
        files({ n: 8, owner: alice.id, tags: ['Red', 'Blue'] }),
        files({ n: 6, owner: bob.id, status: 'HIDDEN', tags: ['Red'] }),
        files({ n: 4, owner: alice.id }),
        files({ n: 6, owner: bob.id, tags: ['Blue', 'Green'] }),
      ])
    ).flat();
    // 0–3 downloads a file over several days by several people, each file's and user's own
    // counters set to match in one statement (the update trigger moves the tags' counts).
    const now = Date.now();
    await insertDownloads(
      t,
      ids.flatMap((fileId, i) =>
        Array.from({ length: i % 4 }, (_, k) => ({
          fileId: Number(fileId),
          userId: [null, Number(alice.id), Number(bob.id)][k % 3]!,
          at: now - ((i + k) % 5) * DAY,
        })),
      ),
    );
    const count = (col: 'file_id' | 'user_id', of: 'files' | 'users') =>
      sql<number>`(select count(*) from downloads d where d.${sql.ref(col)} = ${sql.ref(`${of}.id`)})`;
    await db
      .updateTable('files')
      .set({
        download_count: count('file_id', 'files'),
        last_downloaded_at: sql`(select max(at) from downloads d where d.file_id = files.id)`,
      })
      .where('id', 'in', ids.map(Number))
      .execute();
    await db
      .updateTable('users')
      .set({ download_count: count('user_id', 'users') })
      .where('id', 'in', [Number(alice.id), Number(bob.id)])
      .execute();
    // Earlier tests left drift of their own (downloads without counters): none may come or go.
    const before = await counterFindings();
    const pick = (keep: (i: number) => boolean) => ids.filter((_, i) => keep(i));

    await gql(SET_STATUS, { ids: pick((i) => i % 2 === 0), status: 'HIDDEN' }, admin.token);
    await gql(SET_STATUS, { ids: pick((i) => i % 3 === 0), status: 'ACTIVE' }, admin.token);
    await gql(
      TAG,
      { ids: pick((i) => i % 5 !== 1), add: ['Green', 'Yellow'], remove: ['Red'] },
      admin.token,
    );
    expect(await counterFindings()).toEqual(before);
    const trashed = pick((i) => i % 3 !== 2);
    await gql(DELETE_MANY, { ids: trashed }, admin.token);
    expect(await counterFindings()).toEqual(before);
    await gql(RESTORE_MANY, { ids: trashed.filter((_, i) => i % 2 === 0) }, admin.token);
    const purged = trashed.filter((_, i) => i % 2 === 1);
    // All of them share one blob: one transaction releases all their references.
    expect(await gql(PURGE_MANY, { ids: purged }, admin.token)).toEqual({
      purgeFiles: purged.length,
    });
    expect(await counterFindings()).toEqual(before);
    const { stored, counted } = await rollups();
    expect(stored).toEqual(counted);
    // Not vacuous: tags' downloads were counted, and both owners still have hidden files.
    expect(counted.totals.filter((k) => k.startsWith('tag ')).length).toBeGreaterThan(1);
    const hidden = await db
      .selectFrom('files')
      .select('uploaded_by')
      .where('status', '=', 'HIDDEN')
      .where('id', 'in', ids.map(Number))
      .groupBy('uploaded_by')
      .execute();
    expect(hidden.length).toBe(2);
  });
});
