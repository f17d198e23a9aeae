import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken, expectTouchedOncePerMinute } from '../../../test/library.js';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

const LOGIN = `mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { token user { id } } }`;
const SESSIONS = `{ sessions { id current createdAt lastActiveAt userAgent device address } }`;
const REVOKE = `mutation($id: ID!) { revokeSession(id: $id) }`;
const CHANGE = `mutation($currentPassword: String!, $newPassword: String!) {
  changePassword(currentPassword: $currentPassword, newPassword: $newPassword) }`;
const RESET_LINK = `mutation($userId: ID!) { createPasswordResetLink(userId: $userId) }`;
const RESET = `mutation($token: String!, $password: String!) {
  resetPassword(token: $token, password: $password) { token user { id email } } }`;
const ME = `{ me { id } }`;

interface SessionView {
  id: string;
  current: boolean;
  createdAt: string;
  lastActiveAt: string;
  userAgent: string | null;
  device: string | null;
  address: string | null;
}

describe('sessions, password changes and reset links', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
  });
  afterAll(() => t.close());

  const login = async (email: string, password: string, userAgent?: string) => {
    const res = await t.gql<{ login: { token: string } }>(
      LOGIN,
      { email, password },
      { headers: userAgent ? { 'user-agent': userAgent } : {} },
    );
    if (!res.data?.login) throw new Error(JSON.stringify(res.errors));
    return res.data.login.token;
  };
  const sessionsOf = async (token: string) =>
    (await t.gql<{ sessions: SessionView[] }>(SESSIONS, {}, { token })).data!.sessions;
  const signedIn = async (token: string) =>
    ((await t.gql<{ me: { id: string } | null }>(ME, {}, { token })).data?.me ?? null) !== null;
  /** The one-time reset link an admin makes for `userId`. */
  const resetLink = async (userId: string) => {
    const link = await t.data<{ createPasswordResetLink: string }>(
      RESET_LINK,
      { userId },
      { token: admin.token },
    );
    return new URL(link.createPasswordResetLink);
  };
  const resetToken = async (userId: string) => (await resetLink(userId)).hash.slice(1);

  it('lists each session with its device, address and times, and marks the current one', async () => {
    await t.signUp('list@example.com');
    const firefox = await login('list@example.com', 'correct horse battery', FIREFOX);
    const phone = await login('list@example.com', 'correct horse battery', SAFARI);
    const seen = await sessionsOf(firefox);
    expect(seen).toHaveLength(3);
    const current = seen.filter((s) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({
      userAgent: FIREFOX,
      device: 'Firefox 128 on Linux',
      address: '127.0.0.1',
    });
    expect(seen.find((s) => s.userAgent === SAFARI)?.device).toBe('Safari 17 on iOS');
    for (const s of seen) {
      expect(Date.parse(s.createdAt)).toBeLessThanOrEqual(Date.parse(s.lastActiveAt));
      // The id is not the token: the list never hands out something that signs in.
      expect(await signedIn(s.id)).toBe(false);
    }
    // The other device sees the same sessions, with its own marked current.
    const fromPhone = await sessionsOf(phone);
    expect(fromPhone.find((s) => s.current)?.userAgent).toBe(SAFARI);
  });

  it('records a session’s last use at most once a minute', async () => {
    const { token } = await t.signUp('touch@example.com');
    const [session] = await sessionsOf(token);
    await expectTouchedOncePerMinute(t, { table: 'sessions', id: session!.id }, () =>
      t.gql(ME, {}, { token }),
    );
  });

  it('revokes another session at once, and refuses ids that are not the caller’s', async () => {
    const { token: mine } = await t.signUp('revoke@example.com');
    const other = await login('revoke@example.com', 'correct horse battery', SAFARI);
    const { token: stranger } = await t.signUp('stranger@example.com');
    const target = (await sessionsOf(mine)).find((s) => !s.current)!;

    const foreign = await t.gql(REVOKE, { id: target.id }, { token: stranger });
    expect(errorCode(foreign)).toBe('NOT_FOUND');
    expect(await signedIn(other)).toBe(true);
    for (const id of ['', 'x'.repeat(10_000), '../1']) {
      expect(errorCode(await t.gql(REVOKE, { id }, { token: mine }))).toBe('NOT_FOUND');
    }

    const res = await t.gql<{ revokeSession: boolean }>(REVOKE, { id: target.id }, { token: mine });
    expect(res.data?.revokeSession).toBe(true);
    expect(await signedIn(other)).toBe(false);
    expect(await signedIn(mine)).toBe(true);
    // Replayed: the session is gone.
    expect(errorCode(await t.gql(REVOKE, { id: target.id }, { token: mine }))).toBe('NOT_FOUND');
  });

  it('revoking the current session signs it out and clears the cookie', async () => {
    const { token } = await t.signUp('self@example.com');
    const [current] = await sessionsOf(token);
    const res = await t.gql(REVOKE, { id: current!.id }, { token });
    expect(res.data).toEqual({ revokeSession: true });
    expect(res.headers.get('set-cookie')).toMatch(/cabinet_session=;/);
    expect(await signedIn(token)).toBe(false);
  });

  it('needs a session: anonymous callers and API tokens are refused', async () => {
    const { token } = await t.signUp('tokens@example.com');
    const read = await apiToken(t, token, ['READ']);
    expect(errorCode(await t.gql(SESSIONS))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(SESSIONS, {}, { token: read }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(REVOKE, { id: 'x' }, { token: read }))).toBe('FORBIDDEN');
    // Ids no session can have (PostgreSQL refuses NUL in text) are unknown, not a 500.
    for (const id of ['a\u0000', 'x'.repeat(5000), 'A'.repeat(64)]) {
      expect(errorCode(await t.gql(REVOKE, { id }, { token }))).toBe('NOT_FOUND');
    }
    const change = await t.gql(
      CHANGE,
      { currentPassword: 'correct horse battery', newPassword: 'another password' },
      { token: read },
    );
    expect(errorCode(change)).toBe('FORBIDDEN');
  });

  it('changePassword checks the current password and ends every other session', async () => {
    const { token } = await t.signUp('change@example.com');
    const other = await login('change@example.com', 'correct horse battery');

    const wrong = await t.gql(
      CHANGE,
      { currentPassword: 'not my password', newPassword: 'brand new password' },
      { token },
    );
    expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.errors?.[0]?.extensions?.fields).toEqual({ currentPassword: 'is wrong' });
    const short = await t.gql(
      CHANGE,
      { currentPassword: 'correct horse battery', newPassword: 'short' },
      { token },
    );
    expect(short.errors?.[0]?.extensions?.fields).toEqual({
      newPassword: 'must be at least 8 characters',
    });
    expect(await signedIn(other)).toBe(true);

    const ok = await t.gql(
      CHANGE,
      { currentPassword: 'correct horse battery', newPassword: 'brand new password' },
      { token },
    );
    expect(ok.data).toEqual({ changePassword: true });
    expect(await signedIn(token)).toBe(true);
    expect(await signedIn(other)).toBe(false);
    const old = await t.gql(LOGIN, {
      email: 'change@example.com',
      password: 'correct horse battery',
    });
    expect(errorCode(old)).toBe('BAD_USER_INPUT');
    await login('change@example.com', 'brand new password');
  });

  it('counts wrong current passwords toward the sign-in limit', async () => {
    const { token } = await t.signUp('guess@example.com');
    const codes: unknown[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await t.gql(
        CHANGE,
        { currentPassword: `guess number ${i}`, newPassword: 'brand new password' },
        { token },
      );
      codes.push(errorCode(res));
    }
    expect(codes.slice(0, 10).every((c) => c === 'BAD_USER_INPUT')).toBe(true);
    expect(codes[10]).toBe('RATE_LIMITED');
  });

  it('admins make one-time reset links that end the user’s sessions and sign in', async () => {
    const user = await t.signUp('reset@example.com');
    const url = await resetLink(user.id);
    expect(url.origin).toBe(t.url);
    expect(url.pathname).toBe('/reset-password');
    const token = url.hash.slice(1);
    expect(token.length).toBeGreaterThanOrEqual(43);
    // Only its hash is stored.
    const rows = await t.server.connection.db.selectFrom('password_resets').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);

    const short = await t.gql(RESET, { token, password: 'short' });
    expect(short.errors?.[0]?.extensions?.fields).toEqual({
      password: 'must be at least 8 characters',
    });
    const res = await t.gql<{ resetPassword: { token: string; user: { email: string } } }>(RESET, {
      token,
      password: 'chosen after reset',
    });
    expect(res.data?.resetPassword.user.email).toBe('reset@example.com');
    expect(res.headers.get('set-cookie')).toMatch(/cabinet_session=/);
    expect(await signedIn(user.token)).toBe(false);
    expect(await signedIn(res.data!.resetPassword.token)).toBe(true);
    await login('reset@example.com', 'chosen after reset');

    const replay = await t.gql(RESET, { token, password: 'another new one' });
    expect(replay.errors?.[0]?.extensions?.fields).toEqual({
      token: 'is invalid, used or expired',
    });
  });

  it('refuses links for non-admins, unknown users, and expired, replaced or malformed tokens', async () => {
    const user = await t.signUp('refuse@example.com');
    expect(errorCode(await t.gql(RESET_LINK, { userId: admin.id }, { token: user.token }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await t.gql(RESET_LINK, { userId: admin.id }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(RESET_LINK, { userId: '999999' }, { token: admin.token }))).toBe(
      'NOT_FOUND',
    );
    expect(errorCode(await t.gql(RESET_LINK, { userId: 'abc' }, { token: admin.token }))).toBe(
      'BAD_USER_INPUT',
    );

    const first = await resetToken(user.id);
    const second = await resetToken(user.id);
    const invalid = { token: 'is invalid, used or expired' };
    const fieldsOf = async (token: string) =>
      (await t.gql(RESET, { token, password: 'good password' })).errors?.[0]?.extensions?.fields;
    expect(await fieldsOf(first)).toEqual(invalid);
    for (const bad of ['', 'x', 'a'.repeat(100_000), `${second}x`, second.slice(1)]) {
      expect(await fieldsOf(bad)).toEqual(invalid);
    }
    await t.server.connection.db
      .updateTable('password_resets')
      .set({ expires_at: Date.now() - 1 })
      .execute();
    expect(await fieldsOf(second)).toEqual(invalid);

    // A banned user's link signs nobody in.
    const third = await resetToken(user.id);
    await t.gql(
      `mutation($id: ID!) { banUser(id: $id) { id } }`,
      { id: user.id },
      { token: admin.token },
    );
    expect(errorCode(await t.gql(RESET, { token: third, password: 'good password' }))).toBe(
      'FORBIDDEN',
    );
  });

  it('lets one of two simultaneous resets with the same link win', async () => {
    const user = await t.signUp('race@example.com');
    const token = await resetToken(user.id);
    const results = await Promise.all(
      ['first racing password', 'second racing password', 'third racing password'].map((password) =>
        t.gql<{ resetPassword: { token: string } }>(RESET, { token, password }),
      ),
    );
    const winners = results.filter((r) => r.data?.resetPassword);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === 'BAD_USER_INPUT')).toHaveLength(2);
    const left = await t.server.connection.db.selectFrom('password_resets').selectAll().execute();
    expect(left.filter((r) => r.user_id === Number(user.id))).toEqual([]);
  });

  it('records password changes, resets, revoked sessions and two-factor changes in the audit log', async () => {
    const user = await t.signUp('audited@example.com');
    const other = await login('audited@example.com', 'correct horse battery');
    const target = (await sessionsOf(user.token)).find((s) => !s.current)!;
    await t.gql(REVOKE, { id: target.id }, { token: user.token });
    await t.gql(
      CHANGE,
      { currentPassword: 'correct horse battery', newPassword: 'audited new password' },
      { token: user.token },
    );
    const token = await resetToken(user.id);
    await t.gql(RESET, { token, password: 'audited reset password' });
    expect(await signedIn(other)).toBe(false);
    const AUDIT = `query($action: String) { auditEvents(action: $action) { edges { node {
      action actorLabel targetLabel details } } } }`;
    const res = await t.gql<{
      auditEvents: {
        edges: {
          node: { action: string; actorLabel: string; targetLabel: string; details: string | null };
        }[];
      };
    }>(AUDIT, { action: 'auth.' }, { token: admin.token });
    const mine = res
      .data!.auditEvents.edges.map((e) => e.node)
      .filter((n) => n.targetLabel === 'audited@example.com');
    expect(mine.map((n) => `${n.action} by ${n.actorLabel}`).sort()).toEqual(
      [
        'auth.password_changed by audited@example.com',
        'auth.password_reset by admin@example.com',
        'auth.password_reset by audited@example.com',
        'auth.session_revoked by audited@example.com',
      ].sort(),
    );
  });
});
