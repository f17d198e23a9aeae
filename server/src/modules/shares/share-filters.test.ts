import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { uploadOk } from '../../../test/uploads.js';

// The filters of `shareLinks` (state, createdBy, query) against what the links really do.

const CREATE = `mutation($fileIds: [ID!]!, $maxDownloads: Int, $note: String) {
  createShareLink(fileIds: $fileIds, maxDownloads: $maxDownloads, note: $note) { id url } }`;
const LIST = `query($all: Boolean, $createdBy: ID, $state: ShareLinkState, $query: String,
  $fileId: ID, $first: Int, $offset: Int) {
  shareLinks(all: $all, createdBy: $createdBy, state: $state, query: $query, fileId: $fileId,
    first: $first, offset: $offset) {
    totalCount edges { node { id } } } }`;
const SHARE = `query($token: String!) { share(token: $token) { note } }`;

interface Listed {
  shareLinks: { totalCount: number; edges: { node: { id: string } }[] };
}

describe('shareLinks filters', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let alice: { token: string; id: string };
  let bob: { token: string; id: string };
  let carol: { token: string; id: string };
  const links: Record<string, { id: string; url: string }> = {};

  const list = async (vars: Record<string, unknown>, token = admin.token) =>
    (await t.data<Listed>(LIST, { first: 100, ...vars }, { token })).shareLinks;
  const ids = async (vars: Record<string, unknown>, token = admin.token) =>
    (await list(vars, token)).edges.map((e) => e.node.id).sort();
  const named = (...names: string[]) => names.map((n) => links[n]!.id).sort();
  const create = async (name: string, token: string, vars: Record<string, unknown>) => {
    const data = await t.data<{ createShareLink: { id: string; url: string } }>(CREATE, vars, {
      token,
    });
    links[name] = data.createShareLink;
  };
  const tokenOf = (name: string) => new URL(links[name]!.url).pathname.split('/')[2]!;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    alice = await t.signUp('alice@example.com');
    bob = await t.signUp('bob@example.com');
    carol = await t.signUp('carol@example.com');
    const report = await uploadOk(t, 'numbers', { token: alice.token, filename: 'Report.txt' });
    const secret = await uploadOk(t, 'hush', { token: alice.token, filename: 'Secret plan.txt' });
    const bobs = await uploadOk(t, 'b', { token: bob.token, filename: 'bob_notes.txt' });
    const carols = await uploadOk(t, 'c', { token: carol.token, filename: 'carol.txt' });
    await create('working', alice.token, { fileIds: [report.id], note: 'Quarterly 100% done' });
    await create('revoked', alice.token, { fileIds: [report.id] });
    await create('usedUp', alice.token, { fileIds: [report.id], maxDownloads: 1 });
    await create('hiddenOnly', alice.token, { fileIds: [secret.id], note: 'ÉTÉ plans' });
    await create('bobs', bob.token, { fileIds: [bobs.id] });
    await create('banned', carol.token, { fileIds: [carols.id], note: 'bobx_notes' });
    const revoke = await t.gql(
      `mutation($id: ID!) { revokeShareLink(id: $id) }`,
      { id: links.revoked!.id },
      { token: alice.token },
    );
    expect(revoke.errors).toBeUndefined();
    const used = await fetch(`${t.url}/s/${tokenOf('usedUp')}/files/${report.id}/download`);
    expect(used.status).toBe(200);
    await used.arrayBuffer();
    const hide = await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`,
      { id: secret.id },
      { token: admin.token },
    );
    expect(hide.errors).toBeUndefined();
    const ban = await t.gql(
      `mutation($id: ID!) { banUser(id: $id) { id } }`,
      { id: carol.id },
      { token: admin.token },
    );
    expect(ban.errors).toBeUndefined();
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('splits links into WORKING and STOPPED exactly as recipients find them', async () => {
    const working = await ids({ all: true, state: 'WORKING' });
    const stopped = await ids({ all: true, state: 'STOPPED' });
    expect(working).toEqual(named('working', 'bobs'));
    expect(stopped).toEqual(named('revoked', 'usedUp', 'hiddenOnly', 'banned'));
    for (const name of Object.keys(links)) {
      const opened = (await t.gql<{ share: unknown }>(SHARE, { token: tokenOf(name) })).data;
      expect(opened?.share === null, name).toBe(stopped.includes(links[name]!.id));
    }
    expect((await list({ all: true, state: 'STOPPED' })).totalCount).toBe(4);
    // Without `all`, the state filters one's own links only.
    expect(await ids({ state: 'STOPPED' }, alice.token)).toEqual(
      named('revoked', 'usedUp', 'hiddenOnly'),
    );
  });

  it('tells each link’s state in ShareLink.state, as the filter and recipients see it', async () => {
    const STATES = `query($all: Boolean) { shareLinks(all: $all, first: 100) {
      edges { node { id state } } } }`;
    type States = { shareLinks: { edges: { node: { id: string; state: string } }[] } };
    const stateOf = async (token: string, all: boolean) => {
      const res = await t.gql<States>(STATES, { all }, { token });
      if (!res.data) throw new Error(JSON.stringify(res.errors));
      return Object.fromEntries(res.data.shareLinks.edges.map((e) => [e.node.id, e.node.state]));
    };
    const everyone = await stateOf(admin.token, true);
    const expected = Object.fromEntries(
      Object.entries(links).map(([name, link]) => [
        link.id,
        ['working', 'bobs'].includes(name) ? 'WORKING' : 'STOPPED',
      ]),
    );
    // The banned creator's link reads STOPPED with no filter asked: nothing else of it says so.
    expect(everyone).toEqual(expected);
    expect(everyone[links.banned!.id]).toBe('STOPPED');
    expect(await stateOf(alice.token, false)).toEqual({
      [links.working!.id]: 'WORKING',
      [links.revoked!.id]: 'STOPPED',
      [links.usedUp!.id]: 'STOPPED',
      [links.hiddenOnly!.id]: 'STOPPED',
    });
  });

  it('narrows by creator for admins only', async () => {
    expect(await ids({ createdBy: alice.id })).toEqual(
      named('working', 'revoked', 'usedUp', 'hiddenOnly'),
    );
    expect(await ids({ createdBy: bob.id, state: 'STOPPED' })).toEqual([]);
    expect(errorCode(await t.gql(LIST, { createdBy: alice.id }, { token: alice.token }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await t.gql(LIST, { createdBy: bob.id }, { token: alice.token }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await t.gql(LIST, { all: true }, { token: bob.token }))).toBe('FORBIDDEN');
  });

  it('matches the note or a file name, ignoring case, with wildcards taken literally', async () => {
    expect(await ids({ all: true, query: 'quarterly' })).toEqual(named('working'));
    expect(await ids({ all: true, query: 'REPORT' })).toEqual(
      named('working', 'revoked', 'usedUp'),
    );
    expect(await ids({ all: true, query: 'été' })).toEqual(named('hiddenOnly'));
    expect(await ids({ all: true, query: '100%' })).toEqual(named('working'));
    expect(await ids({ all: true, query: '%' })).toEqual(named('working'));
    // `_` is no wildcard: "bob_notes" does not match carol's note "bobx_notes" by accident.
    expect(await ids({ all: true, query: 'b_notes' })).toEqual(named('bobs'));
    expect(await ids({ all: true, query: '   ' })).toHaveLength(6);
    // Admins match HIDDEN files' names; their creator, who no longer sees the file, does not.
    expect(await ids({ all: true, query: 'secret' })).toEqual(named('hiddenOnly'));
    expect(await ids({ query: 'secret' }, alice.token)).toEqual([]);
    expect(await ids({ query: 'report', state: 'WORKING' }, alice.token)).toEqual(named('working'));
    expect(
      await ids({ all: true, query: 'report', state: 'STOPPED', createdBy: alice.id }),
    ).toEqual(named('revoked', 'usedUp'));
  });

  it('pages the filtered list with the right totals', async () => {
    const seen: string[] = [];
    for (let offset = 0; offset < 4; offset += 3) {
      const page = await list({ all: true, state: 'STOPPED', first: 3, offset });
      expect(page.totalCount).toBe(4);
      seen.push(...page.edges.map((e) => e.node.id));
    }
    expect(seen.sort()).toEqual(named('revoked', 'usedUp', 'hiddenOnly', 'banned'));
    const byFile = await list({ all: true, query: 'report', first: 1 });
    expect(byFile.totalCount).toBe(3);
    expect(byFile.edges).toHaveLength(1);
  });

  it('refuses malformed filters with coded errors', async () => {
    for (const [vars, field] of [
      [{ query: 'x'.repeat(201) }, 'query'],
      [{ query: 'bell\u0007' }, 'query'],
      [{ all: true, createdBy: 'nope' }, 'createdBy'],
      [{ all: true, createdBy: '99999999999999999999' }, 'createdBy'],
    ] as const) {
      const res = await t.gql(LIST, vars, { token: admin.token });
      expect(errorCode(res), JSON.stringify(vars).slice(0, 60)).toBe('BAD_USER_INPUT');
      expect(res.errors![0]!.extensions!.fields).toHaveProperty(field);
    }
    const badEnum = await t.gql(LIST, { state: 'BROKEN' }, { token: admin.token });
    expect(badEnum.errors).toBeDefined();
    expect(badEnum.data).toBeUndefined();
    const huge = await t.gql(
      LIST,
      { all: true, query: 'x'.repeat(100_000) },
      { token: admin.token },
    );
    expect(errorCode(huge)).toBe('BAD_USER_INPUT');
    // An unknown creator is simply nobody's links.
    expect(await list({ createdBy: '999999' })).toMatchObject({ totalCount: 0, edges: [] });
  });
});
