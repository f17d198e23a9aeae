import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, countRows, insertFiles } from '../../../test/library.js';
import { auditEventsPage, type AuditFilter } from './audit.repository.js';

interface Event {
  id: string;
  at: string;
  actor: { id: string } | null;
  actorLabel: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  targetLabel: string | null;
  address: string | null;
  details: string | null;
}

const EVENTS = `query($action: String, $actorId: ID, $from: DateTime, $to: DateTime, $first: Int,
  $offset: Int) {
  auditEvents(action: $action, actorId: $actorId, from: $from, to: $to, first: $first,
    offset: $offset) {
    totalCount pageInfo { hasNextPage }
    edges { node { id at actor { id } actorLabel action targetType targetId targetLabel address
      details } } } }`;

const BAN = `mutation($id: ID!) { banUser(id: $id) { id } }`;
const UNBAN = `mutation($id: ID!) { unbanUser(id: $id) { id } }`;

describe('audit log', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  let user: { token: string; id: string };

  const events = async (vars: Record<string, unknown> = {}, token = admin.token) => {
    const data = await t.data<{
      auditEvents: { totalCount: number; edges: { node: Event }[] };
    }>(EVENTS, { first: 100, ...vars }, { token });
    return data.auditEvents.edges.map((e) => e.node);
  };
  const latest = async (action: string) => (await events({ action }))[0];
  const count = () => countRows(t, 'audit_events');
  const ask = (token: string, query: string, variables: Record<string, unknown> = {}) =>
    t.gql(query, variables, { token });

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    user = await t.signUp('user@example.com');
  });
  afterAll(() => t.close());

  it('records ban, unban and role changes with actor, target, address and before/after', async () => {
    const ban = await ask(admin.token, BAN, { id: user.id });
    expect(ban.errors).toBeUndefined();
    const event = (await latest('user.ban'))!;
    expect(event).toMatchObject({
      actor: { id: admin.id },
      actorLabel: 'admin@example.com',
      action: 'user.ban',
      targetType: 'user',
      targetId: user.id,
      targetLabel: 'user@example.com',
      address: '127.0.0.1',
    });
    expect(JSON.parse(event.details!)).toEqual({
      before: { banned: false },
      after: { banned: true },
    });
    await ask(admin.token, UNBAN, { id: user.id });
    expect(JSON.parse((await latest('user.unban'))!.details!)).toEqual({
      before: { banned: true },
      after: { banned: false },
    });
    // The ban ended the user's session: sign in again.
    const login = await t.gql<{ login: { token: string } }>(
      `mutation { login(email: "user@example.com", password: "correct horse battery") { token } }`,
    );
    user = { ...user, token: login.data!.login.token };
    await t.gql(
      `mutation($id: ID!) { setUserRole(id: $id, role: ADMIN) { id } }`,
      { id: user.id },
      { token: admin.token },
    );
    expect(JSON.parse((await latest('user.role'))!.details!)).toEqual({
      before: { role: 'USER' },
      after: { role: 'ADMIN' },
    });
    await t.gql(
      `mutation($id: ID!) { setUserRole(id: $id, role: USER) { id } }`,
      { id: user.id },
      { token: admin.token },
    );
  });

  it('writes nothing for a refused or failed action', async () => {
    const before = await count();
    const self = await ask(admin.token, BAN, { id: admin.id });
    expect(errorCode(self)).toBe('FORBIDDEN');
    const unknown = await ask(admin.token, `mutation { banUser(id: "99999") { id } }`);
    expect(errorCode(unknown)).toBe('NOT_FOUND');
    const byUser = await ask(user.token, BAN, { id: admin.id });
    expect(errorCode(byUser)).toBe('FORBIDDEN');
    await ask(admin.token, `mutation { createTag(name: "Taken") { id } }`);
    const afterCreate = await count();
    const taken = await ask(admin.token, `mutation { createTag(name: "taken") { id } }`);
    expect(errorCode(taken)).toBe('CONFLICT');
    expect(afterCreate).toBe(before + 1);
    expect(await count()).toBe(afterCreate);
  });

  it('commits the event with its action: when the event cannot be written, the action is undone', async () => {
    const db = t.server.connection.db;
    const pg = t.server.connection.dialect === 'postgres';
    // A stand-in for any failure after the action's own statements, inside its transaction.
    if (pg) {
      await sql`create function refuse_audit() returns trigger language plpgsql as $$
        begin raise exception 'audit refused'; end $$`.execute(db);
      await sql`create trigger refuse_audit before insert on audit_events
        for each row execute function refuse_audit()`.execute(db);
    } else {
      await sql`create trigger refuse_audit before insert on audit_events
        begin select raise(abort, 'audit refused'); end`.execute(db);
    }
    try {
      const ban = await ask(admin.token, BAN, { id: user.id });
      expect(errorCode(ban)).toBe('INTERNAL_SERVER_ERROR');
      const tag = await ask(admin.token, `mutation { createTag(name: "Never") { id } }`);
      expect(errorCode(tag)).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await sql`drop trigger refuse_audit${sql.raw(pg ? ' on audit_events' : '')}`.execute(db);
    }
    const row = await db
      .selectFrom('users')
      .select('banned')
      .where('id', '=', Number(user.id))
      .executeTakeFirstOrThrow();
    expect(row.banned).toBe(0);
    const tags = await db.selectFrom('tags').select('id').where('name', '=', 'Never').execute();
    expect(tags).toEqual([]);
    const me = await t.gql<{ me: { id: string } | null }>(
      `{ me { id } }`,
      {},
      {
        token: user.token,
      },
    );
    expect(me.data!.me).toEqual({ id: user.id });
  });

  it('records tag creation, renaming and deletion with the names of the moment', async () => {
    const created = await t.gql<{ createTag: { id: string } }>(
      `mutation { createTag(name: "Drafts") { id } }`,
      {},
      { token: admin.token },
    );
    const id = created.data!.createTag.id;
    await ask(admin.token, `mutation($id: ID!) { updateTag(id: $id, name: "Finals") { id } }`, {
      id,
    });
    await ask(admin.token, `mutation($id: ID!) { deleteTag(id: $id) }`, { id });
    const tagEvents = (await events({ action: 'tag.' })).filter((e) => e.targetId === id);
    expect(tagEvents.map((e) => [e.action, e.targetLabel, JSON.parse(e.details!)])).toEqual([
      ['tag.delete', 'Finals', { before: { name: 'Finals', files: 0 } }],
      ['tag.update', 'Drafts', { before: { name: 'Drafts' }, after: { name: 'Finals' } }],
      ['tag.create', 'Drafts', { after: { name: 'Drafts' } }],
    ]);
  });

  it('records token creation and revocation by their owner, never the secret', async () => {
    const res = await t.gql<{ createApiToken: { token: string; apiToken: { id: string } } }>(
      `mutation { createApiToken(name: "nightly", scopes: [READ]) { token apiToken { id } } }`,
      {},
      { token: user.token },
    );
    const { token, apiToken: created } = res.data!.createApiToken;
    await ask(user.token, `mutation($id: ID!) { revokeApiToken(id: $id) }`, { id: created.id });
    const made = (await latest('token.create'))!;
    expect(made).toMatchObject({
      actor: { id: user.id },
      targetType: 'token',
      targetId: created.id,
      targetLabel: 'nightly',
    });
    expect(made.details).not.toContain(token);
    expect((await latest('token.revoke'))!).toMatchObject({
      actor: { id: user.id },
      targetId: created.id,
      targetLabel: 'nightly',
    });
    const again = await t.gql(
      `mutation($id: ID!) { revokeApiToken(id: $id) }`,
      {
        id: created.id,
      },
      { token: user.token },
    );
    expect(errorCode(again)).toBe('NOT_FOUND');
    expect((await events({ action: 'token.revoke' })).length).toBe(1);
  });

  it('records file status changes and deletions', async () => {
    const [id] = await insertFiles(t, [{ name: 'report.pdf', uploadedBy: Number(user.id) }]);
    await ask(admin.token, `mutation($id: ID!) { updateFile(id: $id, status: HIDDEN) { id } }`, {
      id,
    });
    // Renaming is no admin action on status: no event.
    await t.gql(
      `mutation($id: ID!) { updateFile(id: $id, name: "r.pdf", status: HIDDEN) { id } }`,
      {
        id,
      },
      { token: admin.token },
    );
    const status = await events({ action: 'file.status' });
    expect(status.map((e) => [e.targetLabel, JSON.parse(e.details!)])).toEqual([
      ['report.pdf', { before: { status: 'ACTIVE' }, after: { status: 'HIDDEN' } }],
    ]);
    await ask(admin.token, `mutation($id: ID!) { deleteFile(id: $id) }`, { id });
    expect((await latest('file.delete'))!).toMatchObject({
      actor: { id: admin.id },
      targetType: 'file',
      targetId: String(id),
      targetLabel: 'r.pdf',
    });
  });

  it('records failed sign-ins and the lockout of an email, once', async () => {
    const attempt = (email: string) =>
      t.gql(
        `mutation($email: String!) { login(email: $email, password: "wrong password") { token } }`,
        {
          email,
        },
      );
    expect(errorCode(await attempt('nobody@example.com'))).toBe('BAD_USER_INPUT');
    const unknown = (await latest('auth.login_failed'))!;
    expect(unknown).toMatchObject({
      actor: null,
      actorLabel: 'nobody@example.com',
      targetType: null,
      address: '127.0.0.1',
    });
    for (let i = 0; i < 10; i++) await attempt('USER@example.com');
    const locked = await attempt('user@example.com');
    expect(errorCode(locked)).toBe('RATE_LIMITED');
    expect(errorCode(await attempt('user@example.com'))).toBe('RATE_LIMITED');
    const failures = (await events({ action: 'auth.login_failed' })).filter(
      (e) => e.targetId === user.id,
    );
    expect(failures).toHaveLength(10);
    expect(failures[0]!.targetLabel).toBe('user@example.com');
    const lockouts = await events({ action: 'auth.locked' });
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]).toMatchObject({ targetId: user.id, actorLabel: 'user@example.com' });
  });

  it('is for admins and AUDIT tokens only, filtered and paged', async () => {
    expect(errorCode(await t.gql(EVENTS, {}, { token: user.token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(EVENTS, {}))).toBe('UNAUTHENTICATED');
    const stats = await apiToken(t, admin.token, ['STATS']);
    expect(errorCode(await t.gql(EVENTS, {}, { token: stats }))).toBe('FORBIDDEN');
    const auditToken = await apiToken(t, admin.token, ['AUDIT']);
    const viaToken = await events({}, auditToken);
    expect(viaToken.length).toBeGreaterThan(5);
    // A USER's AUDIT token is no way in.
    const userAudit = await apiToken(t, user.token, ['AUDIT']);
    expect(errorCode(await t.gql(EVENTS, {}, { token: userAudit }))).toBe('FORBIDDEN');

    const all = await events();
    expect(all.map((e) => Number(e.id))).toEqual(
      [...all.map((e) => Number(e.id))].sort((a, b) => b - a),
    );
    const byUser = await events({ actorId: user.id });
    expect(byUser.length).toBeGreaterThan(0);
    expect(byUser.every((e) => e.actor?.id === user.id)).toBe(true);
    const family = await events({ action: 'user.' });
    expect(new Set(family.map((e) => e.action))).toEqual(
      new Set(['user.ban', 'user.unban', 'user.role']),
    );
    const middle = all[Math.floor(all.length / 2)]!;
    const from = await events({ from: middle.at });
    expect(from.every((e) => e.at >= middle.at)).toBe(true);
    const to = await events({ to: middle.at });
    expect(to.every((e) => e.at < middle.at)).toBe(true);
    expect(from.length + to.length).toBe(all.length);

    const page = await t.gql<{
      auditEvents: { totalCount: number; pageInfo: { hasNextPage: boolean }; edges: unknown[] };
    }>(EVENTS, { first: 2, offset: 1 }, { token: admin.token });
    expect(page.data!.auditEvents.edges).toHaveLength(2);
    expect(page.data!.auditEvents.totalCount).toBe(all.length);
    expect(page.data!.auditEvents.pageInfo.hasNextPage).toBe(true);

    for (const bad of [
      { action: 'drop table' },
      { action: 'x'.repeat(100) },
      { actorId: 'abc' },
      { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' },
      { first: 1000 },
    ]) {
      expect(errorCode(await t.gql(EVENTS, bad, { token: admin.token }))).toBe('BAD_USER_INPUT');
    }
  });

  it('keeps events AUDIT_DAYS, then retention removes them', async () => {
    const db = t.server.connection.db;
    const day = 86_400_000;
    await db
      .insertInto('audit_events')
      .values([
        { at: Date.now() - 400 * day, actor_label: 'old', action: 'tag.create' },
        { at: Date.now() - 300 * day, actor_label: 'recent', action: 'tag.create' },
      ])
      .execute();
    const removed = await t.server.app.services.audit.prune();
    expect(removed).toBe(1);
    const labels = (await db.selectFrom('audit_events').select('actor_label').execute()).map(
      (r) => r.actor_label,
    );
    expect(labels).toContain('recent');
    expect(labels).not.toContain('old');
  });
});

describe('audit log counts and plans', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  const DAY = 86_400_000;
  // A UTC midnight ten days ago: events sit on it, a millisecond either side, and inside days.
  const d0 = Math.floor(Date.now() / DAY) * DAY - 10 * DAY;

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
  });
  afterAll(() => t.close());

  const ACTIONS = ['user.ban', 'user.role', 'file.tags', 'file.status', 'auth.login_failed'];
  const FILTERS: AuditFilter[] = [];
  const instants = [d0 - 1, d0, d0 + 1, d0 + 2 * DAY + 3_600_000, d0 + 3 * DAY - 1, d0 + 5 * DAY];
  for (const action of [null, 'user.', 'file.tags', 'auth.', 'tag.create', 'nothing.']) {
    for (const actor of [null, 'a', 'b'] as const) {
      const ranges: [number | null, number | null][] = [[null, null]];
      for (const x of instants) ranges.push([x, null], [null, x]);
      for (const x of instants) for (const y of instants) if (x <= y) ranges.push([x, y]);
      for (const [from, to] of ranges) {
        FILTERS.push({
          action,
          actorId: actor === null ? null : actor === 'a' ? -1 : -2,
          from,
          to,
        });
      }
    }
  }

  it('counts exactly for every filter shape, across day boundaries, after inserts and deletions', async () => {
    const db = t.server.connection.db;
    const b = await t.signUp('b@example.com');
    const actors = { a: Number(admin.id), b: Number(b.id) };
    const rows = Array.from({ length: 240 }, (_, i) => {
      const action = ACTIONS[i % ACTIONS.length]!;
      const anonymous = action === 'auth.login_failed';
      const offsets = [0, 1, -1, 3_600_000, DAY - 1, 12 * 3_600_000];
      return {
        at: d0 + Math.floor(i / 40) * DAY + offsets[i % offsets.length]!,
        actor_id: anonymous ? null : i % 3 ? actors.a : actors.b,
        actor_label: 'x',
        action,
      };
    });
    await db.insertInto('audit_events').values(rows).execute();

    const expectExact = async (stage: string) => {
      const all = await db
        .selectFrom('audit_events')
        .select(['at', 'action', 'actor_id'])
        .execute();
      const mismatches: string[] = [];
      // All at once: PostgreSQL answers on its pool's connections side by side.
      const checks = FILTERS.map(async (f) => {
        const filter = {
          ...f,
          actorId: f.actorId === -1 ? actors.a : f.actorId === -2 ? actors.b : null,
        };
        const expected = all.filter(
          (e) =>
            (!filter.action ||
              (filter.action.endsWith('.')
                ? e.action.startsWith(filter.action)
                : e.action === filter.action)) &&
            (filter.actorId == null || e.actor_id === filter.actorId) &&
            (filter.from == null || e.at >= filter.from) &&
            (filter.to == null || e.at < filter.to),
        ).length;
        const counted = await t.server.app.services.audit.count(filter);
        if (counted !== expected) {
          mismatches.push(`${JSON.stringify(filter)}: ${counted}, expected ${expected}`);
        }
      });
      await Promise.all(checks);
      expect(mismatches, stage).toEqual([]);
      // The day rows are the events grouped, with no row left at zero.
      const days = await db
        .selectFrom('audit_days')
        .select(['actor_id', 'action', 'day', 'events'])
        .orderBy('actor_id')
        .orderBy('action')
        .orderBy('day')
        .execute();
      const grouped = new Map<string, number>();
      for (const e of all) {
        const day = e.at - (e.at % DAY);
        for (const actor of e.actor_id == null ? [0] : [0, e.actor_id]) {
          const key = `${actor} ${e.action} ${day}`;
          grouped.set(key, (grouped.get(key) ?? 0) + 1);
        }
      }
      expect(
        new Map(days.map((d) => [`${d.actor_id} ${d.action} ${Number(d.day)}`, d.events])),
        stage,
      ).toEqual(grouped);
    };
    await expectExact('after inserts');

    // Through HTTP too: a range with partial days at both ends.
    const res = await t.gql<{ auditEvents: { totalCount: number } }>(
      `query($from: DateTime, $to: DateTime) { auditEvents(action: "user.", from: $from, to: $to) {
        totalCount } }`,
      { from: new Date(d0 + 1).toISOString(), to: new Date(d0 + 3 * DAY - 1).toISOString() },
      { token: admin.token },
    );
    const expected = rows.filter(
      (r) => r.action.startsWith('user.') && r.at >= d0 + 1 && r.at < d0 + 3 * DAY - 1,
    ).length;
    expect(expected).toBeGreaterThan(0);
    expect(res.data?.auditEvents.totalCount).toBe(expected);

    // Deletions (retention, in batches, and single rows) keep the days exact.
    await db
      .deleteFrom('audit_events')
      .where('action', '=', 'file.tags')
      .where('at', '<', d0 + 2 * DAY)
      .execute();
    const removed = await t.server.app.services.audit.prune(d0 + DAY + 365 * DAY);
    expect(removed).toBeGreaterThan(0);
    await expectExact('after deletions');
    // 936 counts: seconds on a busy machine.
  }, 120_000);

  it('finds every filter shape’s newest page in an index, without a sort', async () => {
    const db = t.server.connection.db;
    const id = Number(admin.id);
    const shapes: [AuditFilter, string][] = [
      [{}, 'audit_events_at'],
      [{ action: 'user.ban' }, 'audit_events_action_at'],
      [{ action: 'user.' }, 'audit_events_family_at'],
      [{ actorId: id }, 'audit_events_actor_at'],
      [{ from: d0, to: d0 + DAY }, 'audit_events_at'],
      [{ action: 'user.ban', actorId: id, from: d0 }, 'audit_events_action_actor_at'],
      [{ action: 'user.', actorId: id, from: d0 }, 'audit_events_family_actor_at'],
    ];
    for (const [filter, index] of shapes) {
      const page = auditEventsPage(db, filter, 21, 0).compile();
      if (t.server.connection.dialect === 'sqlite') {
        const plan = await db.executeQuery<{ detail: string }>(
          CompiledQuery.raw(`explain query plan ${page.sql}`, [...page.parameters]),
        );
        const details = plan.rows.map((r) => r.detail).join('\n');
        expect(details, JSON.stringify(filter)).toContain(index);
        expect(details, JSON.stringify(filter)).not.toContain('TEMP B-TREE');
      } else {
        // PostgreSQL picks by its statistics, which a tiny table does not resemble: only the
        // index's existence is checked here; the audit bench shows the plans at 1,000,000 events.
        const found = await sql<{ n: number }>`select count(*)::int as n from pg_indexes
          where tablename = 'audit_events' and indexname = ${index}`.execute(db);
        expect(found.rows[0]!.n, index).toBe(1);
      }
    }
  });
});
