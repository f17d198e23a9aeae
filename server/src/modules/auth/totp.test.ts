import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken } from '../../../test/library.js';
import { totpCode } from './totp.js';

const START = `mutation { startTotpSetup { secret uri } }`;
const CONFIRM = `mutation($code: String!) { confirmTotp(code: $code) }`;
const DISABLE = `mutation($password: String!) { disableTotp(password: $password) }`;
const LOGIN = `mutation($email: String!, $password: String!, $totp: String) {
  login(email: $email, password: $password, totp: $totp) { token } }`;
const ME = `{ me { id role totpEnabled recoveryCodesLeft adminNeedsTotp } }`;
const PASSWORD = 'correct horse battery';
const STEP = 30_000;

describe('two-factor sign-in (TOTP)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    await t.signUp('first-admin@example.com');
  });
  afterAll(() => t.close());

  /** Signs up and turns two-factor on; the codes of the current step are used up by then. */
  async function withTotp(email: string) {
    const user = await t.signUp(email);
    const setup = await t.gql<{ startTotpSetup: { secret: string; uri: string } }>(
      START,
      {},
      { token: user.token },
    );
    const secret = setup.data!.startTotpSetup.secret;
    const confirmed = await t.gql<{ confirmTotp: string[] }>(
      CONFIRM,
      { code: totpCode(secret) },
      { token: user.token },
    );
    return {
      ...user,
      secret,
      uri: setup.data!.startTotpSetup.uri,
      codes: confirmed.data!.confirmTotp,
    };
  }

  /** The code of the last step the user's sign-in accepted (the setup's, after withTotp). */
  async function usedCode(user: { id: string; secret: string }) {
    const row = await t.server.connection.db
      .selectFrom('users')
      .select('totp_last_step')
      .where('id', '=', Number(user.id))
      .executeTakeFirstOrThrow();
    return totpCode(user.secret, row.totp_last_step! * STEP);
  }

  const login = (email: string, totp?: string, password = PASSWORD) =>
    t.gql<{ login: { token: string } }>(LOGIN, { email, password, totp });

  it('sets up with a QR URI, confirms by code and answers ten recovery codes', async () => {
    const user = await t.signUp('setup@example.com');
    const setup = await t.gql<{ startTotpSetup: { secret: string; uri: string } }>(
      START,
      {},
      { token: user.token },
    );
    const { secret, uri } = setup.data!.startTotpSetup;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe('otpauth:');
    expect(decodeURIComponent(parsed.pathname)).toContain('Cabinet:setup@example.com');
    expect(parsed.searchParams.get('secret')).toBe(secret);
    expect(parsed.searchParams.get('issuer')).toBe('Cabinet');

    // Not on until confirmed: sign-in still needs no code.
    expect((await login('setup@example.com')).data?.login.token).toBeTruthy();
    const wrong = await t.gql(
      CONFIRM,
      { code: '000000' === totpCode(secret) ? '111111' : '000000' },
      { token: user.token },
    );
    expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.errors?.[0]?.extensions?.fields).toEqual({ code: 'is wrong' });
    const garbage = await t.gql(CONFIRM, { code: 'x'.repeat(100_000) }, { token: user.token });
    expect(errorCode(garbage)).toBe('BAD_USER_INPUT');

    const ok = await t.gql<{ confirmTotp: string[] }>(
      CONFIRM,
      { code: totpCode(secret) },
      { token: user.token },
    );
    const codes = ok.data!.confirmTotp;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
    const me = await t.gql<{ me: { totpEnabled: boolean; recoveryCodesLeft: number } }>(
      ME,
      {},
      { token: user.token },
    );
    expect(me.data?.me).toMatchObject({ totpEnabled: true, recoveryCodesLeft: 10 });
    // Neither the secret nor the recovery codes are stored readable beside it.
    const rows = await t.server.connection.db.selectFrom('recovery_codes').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(codes[0]!.replace('-', ''));
    expect(JSON.stringify(rows)).not.toContain(codes[0]!);

    expect(errorCode(await t.gql(START, {}, { token: user.token }))).toBe('CONFLICT');
    expect(errorCode(await t.gql(CONFIRM, { code: '123456' }, { token: user.token }))).toBe(
      'CONFLICT',
    );
  });

  it('login answers TOTP_REQUIRED, then refuses wrong and replayed codes', async () => {
    const user = await withTotp('login@example.com');
    const bare = await login('login@example.com');
    expect(errorCode(bare)).toBe('TOTP_REQUIRED');
    expect(bare.data ?? null).toBeNull();
    // A wrong password stays the wrong-password answer, code or not.
    expect(errorCode(await login('login@example.com', totpCode(user.secret), 'wrong pass'))).toBe(
      'BAD_USER_INPUT',
    );
    expect(errorCode(await login('login@example.com', '123'))).toBe('UNAUTHENTICATED');

    // The setup's own step is used up: its code is refused…
    const setupCode = await usedCode(user);
    expect(errorCode(await login('login@example.com', setupCode))).toBe('UNAUTHENTICATED');
    // …the next step's (within the one-step drift window) is accepted, once.
    const next = totpCode(user.secret, Date.now() + STEP);
    const ok = await login('login@example.com', next);
    expect(ok.data?.login.token).toBeTruthy();
    expect(errorCode(await login('login@example.com', next))).toBe('UNAUTHENTICATED');
    // An older step after a newer one is a replay too.
    expect(errorCode(await login('login@example.com', setupCode))).toBe('UNAUTHENTICATED');
  });

  it('recovery codes work once each, typed in any case, with or without the dash', async () => {
    const user = await withTotp('recover@example.com');
    const [first, second] = user.codes;
    const ok = await login('recover@example.com', first!.toUpperCase().replace('-', ' '));
    expect(ok.data?.login.token).toBeTruthy();
    expect(errorCode(await login('recover@example.com', first))).toBe('UNAUTHENTICATED');
    expect(
      (await login('recover@example.com', second!.replace('-', ''))).data?.login.token,
    ).toBeTruthy();
    const me = await t.gql<{ me: { recoveryCodesLeft: number } }>(ME, {}, { token: user.token });
    expect(me.data?.me.recoveryCodesLeft).toBe(8);
  });

  it('lets only one of simultaneous sign-ins with the same code through', async () => {
    const user = await withTotp('race@example.com');
    const next = totpCode(user.secret, Date.now() + STEP);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => login('race@example.com', next)),
    );
    expect(results.filter((r) => r.data?.login)).toHaveLength(1);
    expect(results.filter((r) => errorCode(r) === 'UNAUTHENTICATED')).toHaveLength(4);
    const code = user.codes[0]!;
    const recovered = await Promise.all(
      Array.from({ length: 5 }, () => login('race@example.com', code)),
    );
    expect(recovered.filter((r) => r.data?.login)).toHaveLength(1);
  });

  it('counts wrong codes toward the per-email sign-in limit', async () => {
    const user = await withTotp('limit@example.com');
    const results: unknown[] = [];
    for (let i = 0; i < 10; i++)
      results.push(errorCode(await login('limit@example.com', `00000${i}`)));
    expect(results.every((c) => c === 'UNAUTHENTICATED' || c === 'TOTP_REQUIRED')).toBe(true);
    const locked = await login('limit@example.com', totpCode(user.secret, Date.now() + STEP));
    expect(errorCode(locked)).toBe('RATE_LIMITED');
  });

  it('disableTotp needs the password and removes the second factor', async () => {
    const user = await withTotp('disable@example.com');
    const wrong = await t.gql(DISABLE, { password: 'not it at all' }, { token: user.token });
    expect(wrong.errors?.[0]?.extensions?.fields).toEqual({ password: 'is wrong' });
    expect((await t.gql(DISABLE, { password: PASSWORD }, { token: user.token })).data).toEqual({
      disableTotp: true,
    });
    expect((await login('disable@example.com')).data?.login.token).toBeTruthy();
    const left = await t.server.connection.db
      .selectFrom('recovery_codes')
      .selectAll()
      .where('user_id', '=', Number(user.id))
      .execute();
    expect(left).toEqual([]);
    const events = await t.server.connection.db
      .selectFrom('audit_events')
      .select(['action', 'actor_label'])
      .where('target_label', '=', 'disable@example.com')
      .orderBy('id')
      .execute();
    expect(events).toEqual([
      { action: 'auth.totp_enabled', actor_label: 'disable@example.com' },
      { action: 'auth.totp_disabled', actor_label: 'disable@example.com' },
    ]);
  });

  it('needs a session, and hides another user’s two-factor state from non-admins', async () => {
    const user = await t.signUp('scopes@example.com');
    const token = await apiToken(t, user.token, ['READ']);
    expect(errorCode(await t.gql(START, {}, { token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(START))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(CONFIRM, { code: '123456' }))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(DISABLE, { password: PASSWORD }, { token }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(CONFIRM, { code: '123456' }, { token: user.token }))).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('a reset link does not bypass the second factor', async () => {
    const admin = await login('first-admin@example.com');
    const user = await withTotp('reset2fa@example.com');
    const link = await t.gql<{ createPasswordResetLink: string }>(
      `mutation($userId: ID!) { createPasswordResetLink(userId: $userId) }`,
      { userId: user.id },
      { token: admin.data!.login.token },
    );
    const token = new URL(link.data!.createPasswordResetLink).hash.slice(1);
    const RESET = `mutation($token: String!, $password: String!, $totp: String) {
      resetPassword(token: $token, password: $password, totp: $totp) { token } }`;
    expect(errorCode(await t.gql(RESET, { token, password: 'new password 1' }))).toBe(
      'TOTP_REQUIRED',
    );
    const done = await t.gql<{ resetPassword: { token: string } }>(RESET, {
      token,
      password: 'new password 1',
      totp: user.codes[0],
    });
    expect(done.data?.resetPassword.token).toBeTruthy();
  });
  it('regenerates recovery codes with a current code: old ones die, new ones work, audited', async () => {
    const user = await withTotp('regen@example.com');
    const REGEN = `mutation($code: String!) { regenerateRecoveryCodes(code: $code) }`;
    // A recovery code is no proof here, nor a wrong code; neither changes anything.
    const withRecovery = await t.gql(REGEN, { code: user.codes[0] }, { token: user.token });
    expect(errorCode(withRecovery)).toBe('BAD_USER_INPUT');
    expect(withRecovery.errors?.[0]?.extensions?.fields).toEqual({
      code: 'is wrong or was already used',
    });
    // The setup's step is used up already: a replay of it is refused as well.
    const setupCode = await usedCode(user);
    expect(errorCode(await t.gql(REGEN, { code: setupCode }, { token: user.token }))).toBe(
      'BAD_USER_INPUT',
    );
    // Scripts cannot: a session is needed.
    const token = await apiToken(t, user.token, ['READ']);
    const next = totpCode(user.secret, Date.now() + STEP);
    expect(errorCode(await t.gql(REGEN, { code: next }, { token }))).toBe('FORBIDDEN');

    const ok = await t.gql<{ regenerateRecoveryCodes: string[] }>(
      REGEN,
      { code: next },
      { token: user.token },
    );
    const fresh = ok.data!.regenerateRecoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(new Set([...fresh, ...user.codes]).size).toBe(20);
    // The same code again is a replay.
    expect(errorCode(await t.gql(REGEN, { code: next }, { token: user.token }))).toBe(
      'BAD_USER_INPUT',
    );
    const me = await t.gql<{ me: { recoveryCodesLeft: number } }>(ME, {}, { token: user.token });
    expect(me.data?.me.recoveryCodesLeft).toBe(10);
    expect(errorCode(await login('regen@example.com', user.codes[1]))).toBe('UNAUTHENTICATED');
    expect((await login('regen@example.com', fresh[0])).data?.login.token).toBeTruthy();

    const admin = (await login('first-admin@example.com')).data!.login.token;
    const events = await t.gql<{
      auditEvents: { edges: { node: { actorLabel: string; targetLabel: string } }[] };
    }>(
      '{ auditEvents(action: "auth.recovery_codes_regenerated") { edges { node { actorLabel targetLabel } } } }',
      {},
      { token: admin },
    );
    expect(events.data?.auditEvents.edges.map((e) => e.node)).toEqual([
      { actorLabel: 'regen@example.com', targetLabel: 'regen@example.com' },
    ]);

    // Without two-factor there is nothing to regenerate.
    const plain = await t.signUp('regen-off@example.com');
    expect(errorCode(await t.gql(REGEN, { code: '123456' }, { token: plain.token }))).toBe(
      'CONFLICT',
    );
  });

  it('an admin turns off another user’s two-factor, audited; not their own, not as a user', async () => {
    const admin = (await login('first-admin@example.com')).data!.login.token;
    const adminId = (await t.gql<{ me: { id: string } }>(ME, {}, { token: admin })).data!.me.id;
    const user = await withTotp('lostphone@example.com');
    const other = await t.signUp('bystander@example.com');
    const OFF = `mutation($userId: ID!) { disableUserTotp(userId: $userId) { id totpEnabled } }`;
    expect(errorCode(await t.gql(OFF, { userId: user.id }, { token: other.token }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await t.gql(OFF, { userId: adminId }, { token: admin }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(OFF, { userId: '999999' }, { token: admin }))).toBe('NOT_FOUND');
    expect(errorCode(await t.gql(OFF, { userId: 'x' }, { token: admin }))).toBe('BAD_USER_INPUT');
    expect(errorCode(await login('lostphone@example.com'))).toBe('TOTP_REQUIRED');

    const off = await t.gql<{ disableUserTotp: { id: string; totpEnabled: boolean } }>(
      OFF,
      { userId: user.id },
      { token: admin },
    );
    expect(off.data?.disableUserTotp).toEqual({ id: user.id, totpEnabled: false });
    // The password alone signs in now; the recovery codes are gone with the secret.
    expect((await login('lostphone@example.com')).data?.login.token).toBeTruthy();
    const codes = await t.server.connection.db
      .selectFrom('recovery_codes')
      .select('code_hash')
      .where('user_id', '=', Number(user.id))
      .execute();
    expect(codes).toEqual([]);
    // Again: nothing to turn off, nothing recorded.
    expect((await t.gql(OFF, { userId: user.id }, { token: admin })).errors).toBeUndefined();
    const events = await t.gql<{
      auditEvents: {
        edges: { node: { actorLabel: string; targetLabel: string; details: string | null } }[];
      };
    }>(
      '{ auditEvents(action: "auth.totp_disabled") { edges { node { actorLabel targetLabel details } } } }',
      {},
      { token: admin },
    );
    const mine = events
      .data!.auditEvents.edges.map((e) => e.node)
      .filter((e) => e.targetLabel === 'lostphone@example.com');
    expect(mine).toEqual([
      {
        actorLabel: 'first-admin@example.com',
        targetLabel: 'lostphone@example.com',
        details: JSON.stringify({ by: 'admin' }),
      },
    ]);
  });
});

describe('REQUIRE_ADMIN_TOTP=on', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ REQUIRE_ADMIN_TOTP: 'on' });
  });
  afterAll(() => t.close());

  it('holds an admin to USER rights until two-factor is on, at once', async () => {
    const admin = await t.signUp('held@example.com');
    const USERS = `{ users { totalCount } }`;
    expect(errorCode(await t.gql(USERS, {}, { token: admin.token }))).toBe('FORBIDDEN');
    const me = await t.gql<{ me: { role: string; adminNeedsTotp: boolean } }>(
      ME,
      {},
      { token: admin.token },
    );
    expect(me.data?.me).toMatchObject({ role: 'USER', adminNeedsTotp: true });

    const setup = await t.gql<{ startTotpSetup: { secret: string } }>(
      START,
      {},
      { token: admin.token },
    );
    const secret = setup.data!.startTotpSetup.secret;
    await t.gql(CONFIRM, { code: totpCode(secret) }, { token: admin.token });
    expect((await t.gql(USERS, {}, { token: admin.token })).data).toEqual({
      users: { totalCount: 1 },
    });
    const after = await t.gql<{ me: { role: string; adminNeedsTotp: boolean } }>(
      ME,
      {},
      { token: admin.token },
    );
    expect(after.data?.me).toMatchObject({ role: 'ADMIN', adminNeedsTotp: false });
    // Ordinary users are not affected.
    const user = await t.signUp('plain@example.com');
    const plain = await t.gql<{ me: { adminNeedsTotp: boolean } }>(ME, {}, { token: user.token });
    expect(plain.data?.me.adminNeedsTotp).toBe(false);
  });
});

// The operator's way out when no admin can turn two-factor off: `npm run user -- disable-totp`,
// the real CLI in a child process beside the running server (SQLite: WAL lets both write).
describe.skipIf(Boolean(process.env.TEST_DATABASE_URL))('npm run user -- disable-totp', () => {
  let t: TestServer;
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-user-cli-'));
    t = await startTestServer({ DATABASE_URL: `sqlite:${path.join(dir, 'cabinet.sqlite')}` });
  });
  afterAll(async () => {
    await t?.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('turns off two-factor for the email given', async () => {
    const admin = await t.signUp('lone-admin@example.com');
    const setup = await t.gql<{ startTotpSetup: { secret: string } }>(
      START,
      {},
      { token: admin.token },
    );
    await t.gql(
      CONFIRM,
      { code: totpCode(setup.data!.startTotpSetup.secret) },
      { token: admin.token },
    );
    const login = () =>
      t.gql(LOGIN, { email: 'lone-admin@example.com', password: PASSWORD, totp: null });
    expect(errorCode(await login())).toBe('TOTP_REQUIRED');
    const root = fileURLToPath(new URL('../../../..', import.meta.url));
    const out = await new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'server/src/cli/user.ts', 'disable-totp', 'Lone-Admin@example.com'],
        {
          cwd: root,
          env: {
            PATH: process.env.PATH ?? '',
            DATABASE_URL: `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
            LOG_LEVEL: 'silent',
          },
        },
        (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout }),
      ),
    );
    expect(out).toEqual({ code: 0, stdout: 'disable-totp: done for lone-admin@example.com.\n' });
    expect((await login()).errors).toBeUndefined();
  });
});
