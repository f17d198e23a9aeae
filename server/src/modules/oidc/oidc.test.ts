import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import {
  Browser,
  passProvider,
  startProvider,
  type Person,
  type TestProvider,
} from '../../../test/sign-on.js';

// Single sign-on against a real OpenID provider (the certified `oidc-provider`) started here,
// driven through HTTP like a browser: redirects followed by hand, cookies kept per origin, the
// provider's own login and consent forms filled in (test/sign-on.ts). Mutated start and
// callback requests are the fuzz suite's `oidc` section (test/fuzz.test.ts).

let provider: TestProvider;
let people: Map<string, Person>;
let issuer: string;

/** A whole sign-on; answers where Cabinet's callback sent the browser and the browser. */
async function signOn(t: TestServer, login: string, browser = new Browser(), query = '') {
  const start = await browser.request(`${t.url}/auth/oidc/start${query}`);
  expect(start.status).toBe(302);
  const callback = await passProvider(browser, start.headers.get('location')!, login, t.url);
  expect(callback).toContain('/auth/oidc/callback?');
  const done = await browser.request(callback);
  return { browser, callback, status: done.status, location: done.headers.get('location') };
}

const viewerOf = async (t: TestServer, browser: Browser) => {
  const cookie = browser.cookies(t.url).get('cabinet_session');
  if (!cookie) return null;
  const res = await t.gql<{ me: { email: string; role: string; name: string } | null }>(
    '{ me { email role name } }',
    {},
    { headers: { cookie: `cabinet_session=${cookie}`, 'x-requested-with': 'test' } },
  );
  return res.data?.me ?? null;
};

const env = () => ({
  OIDC_ISSUER: issuer,
  OIDC_CLIENT_ID: 'cabinet',
  OIDC_CLIENT_SECRET: 'cabinet-secret',
  OIDC_ADMIN_GROUP: 'cabinet-admins',
  OIDC_NAME: 'Test IdP',
});

describe('single sign-on (OpenID Connect)', () => {
  let t: TestServer;
  /** The first, password-registered account: the admin (sign-on never makes the first admin). */
  let owner: string;

  beforeAll(async () => {
    provider = await startProvider();
    ({ people, issuer } = provider);
    t = await startTestServer(env());
    owner = (await t.signUp('owner@example.com')).token;
    provider.configure([`${t.url}/auth/oidc/callback`]);
  });
  afterAll(async () => {
    await t?.close();
    await provider?.close();
  });

  it('creates a user at the first sign-on and signs the same one in the second time', async () => {
    people.set('alice', { email: 'Alice@Example.com', email_verified: true, name: 'Alice' });
    const first = await signOn(t, 'alice');
    expect(first.status).toBe(302);
    expect(first.location).toBe('/');
    const me = await viewerOf(t, first.browser);
    expect(me).toEqual({ email: 'alice@example.com', role: 'USER', name: 'Alice' });
    // The state cookie is used up.
    expect(first.browser.cookies(t.url).has('cabinet_oidc_state')).toBe(false);

    people.set('alice', { email: 'alice-new@example.com', email_verified: true, name: 'A' });
    const second = await signOn(t, 'alice');
    expect(second.location).toBe('/');
    // The subject, not the (changed) email, names the account.
    expect((await viewerOf(t, second.browser))?.email).toBe('alice@example.com');
    const users = await t.gql<{ users: { totalCount: number } }>(
      '{ users { totalCount } }',
      {},
      { token: owner },
    );
    // alice and the owner: no second account for the second sign-on.
    expect(users.data?.users.totalCount).toBe(2);
  });

  it('links an existing password account only through a verified email', async () => {
    await t.signUp('bob@example.com', { password: 'bob-password-1' });
    people.set('bob-unverified', { email: 'bob@example.com', email_verified: false });
    const refused = await signOn(t, 'bob-unverified');
    expect(refused.location).toBe('/login?error=oidc_email');
    expect(await viewerOf(t, refused.browser)).toBeNull();

    people.set('bob', { email: 'BOB@example.com', email_verified: true });
    const linked = await signOn(t, 'bob');
    expect(linked.location).toBe('/');
    expect((await viewerOf(t, linked.browser))?.email).toBe('bob@example.com');
    // The password still works alongside.
    const login = await t.gql<{ login: { user: { email: string } } }>(
      'mutation { login(email: "bob@example.com", password: "bob-password-1") { user { email } } }',
    );
    expect(login.data?.login.user.email).toBe('bob@example.com');
    // A second sign-on of the linked account is a plain sign-in: no new event.
    expect((await signOn(t, 'bob')).location).toBe('/');
  });

  it('audits accounts made and linked by sign-on (auth.oidc_login), not plain sign-ins', async () => {
    const events = await t.gql<{
      auditEvents: {
        edges: { node: { actorLabel: string; targetLabel: string; details: string } }[];
      };
    }>(
      '{ auditEvents(action: "auth.oidc_login") { edges { node { actorLabel targetLabel details } } } }',
      {},
      { token: owner },
    );
    const seen = events.data!.auditEvents.edges.map((e) => {
      const details = JSON.parse(e.node.details) as Record<string, string>;
      return [e.node.actorLabel, e.node.targetLabel, details.account, details.subject];
    });
    // Newest first: bob linked (once, though he signed on twice), alice created (once).
    expect(seen).toEqual([
      ['bob@example.com', 'bob@example.com', 'linked', 'bob'],
      ['alice@example.com', 'alice@example.com', 'created', 'alice'],
    ]);
  });

  it('creates a separate account for an unverified email no account has', async () => {
    people.set('carol', { email: 'carol@example.com', email_verified: false });
    const res = await signOn(t, 'carol');
    expect(res.location).toBe('/');
    expect((await viewerOf(t, res.browser))?.email).toBe('carol@example.com');
  });

  it('refuses a wrong state, a callback from another browser and a replayed code', async () => {
    people.set('dave', { email: 'dave@example.com', email_verified: true });
    const browser = new Browser();
    const start = await browser.request(`${t.url}/auth/oidc/start`);
    const callback = await passProvider(browser, start.headers.get('location')!, 'dave', t.url);

    const wrong = new URL(callback);
    wrong.searchParams.set('state', 'not-the-state');
    const tampered = await browser.request(wrong.href);
    expect(tampered.headers.get('location')).toBe('/login?error=oidc_state');

    // Another browser (no state cookie) cannot use the code either.
    const stranger = await new Browser().request(callback);
    expect(stranger.headers.get('location')).toBe('/login?error=oidc_state');
    expect(stranger.headers.getSetCookie().join()).not.toContain('cabinet_session=');

    // The wrong-state attempt cleared the cookie: put it back as the browser had it.
    const state = new URL(callback).searchParams.get('state')!;
    browser.cookies(t.url).set('cabinet_oidc_state', state);
    const ok = await browser.request(callback);
    expect(ok.headers.get('location')).toBe('/');
    expect((await viewerOf(t, browser))?.email).toBe('dave@example.com');

    // The same callback again (state and code replayed): refused, no second session.
    browser.cookies(t.url).set('cabinet_oidc_state', state);
    const replayed = await browser.request(callback);
    expect(replayed.headers.get('location')).toBe('/login?error=oidc_state');
  });

  it('refuses a code replayed under a fresh state (the provider refuses the code)', async () => {
    people.set('erin', { email: 'erin@example.com', email_verified: true });
    const first = await signOn(t, 'erin');
    expect(first.location).toBe('/');
    const code = new URL(first.callback).searchParams.get('code')!;
    // A new sign-in started, but its callback carries the old, used code.
    const browser = new Browser();
    const start = await browser.request(`${t.url}/auth/oidc/start`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await browser.request(
      `${t.url}/auth/oidc/callback?code=${encodeURIComponent(code)}&state=${state}&iss=${encodeURIComponent(issuer)}`,
    );
    expect(res.headers.get('location')).toBe('/login?error=oidc_provider');
    expect(browser.cookies(t.url).has('cabinet_session')).toBe(false);
  });

  it('maps OIDC_ADMIN_GROUP to ADMIN at each sign-on and back to USER, audited', async () => {
    people.set('fay', {
      email: 'fay@example.com',
      email_verified: true,
      groups: ['cabinet-admins'],
    });
    const admin = await signOn(t, 'fay');
    expect((await viewerOf(t, admin.browser))?.role).toBe('ADMIN');
    people.set('fay', { email: 'fay@example.com', email_verified: true, groups: ['others'] });
    const user = await signOn(t, 'fay');
    expect((await viewerOf(t, user.browser))?.role).toBe('USER');

    const token = owner;
    const events = await t.gql<{
      auditEvents: {
        edges: { node: { actorLabel: string; targetLabel: string; details: string } }[];
      };
    }>(
      '{ auditEvents(action: "user.role") { edges { node { actorLabel targetLabel details } } } }',
      {},
      { token },
    );
    const fay = events.data?.auditEvents.edges
      .map((e) => e.node)
      .filter((e) => e.targetLabel === 'fay@example.com');
    expect(fay?.map((e) => [e.actorLabel, JSON.parse(e.details)])).toEqual([
      ['sign-on', { before: 'ADMIN', after: 'USER' }],
      ['sign-on', { before: 'USER', after: 'ADMIN' }],
    ]);
  });

  it('refuses a banned user', async () => {
    people.set('gus', { email: 'gus@example.com', email_verified: true });
    expect((await signOn(t, 'gus')).location).toBe('/');
    const token = owner;
    const list = await t.gql<{ users: { edges: { node: { id: string; email: string } }[] } }>(
      '{ users(first: 100) { edges { node { id email } } } }',
      {},
      { token },
    );
    const id = list.data!.users.edges.find((e) => e.node.email === 'gus@example.com')!.node.id;
    const ban = await t.gql('mutation($id: ID!) { banUser(id: $id) { id } }', { id }, { token });
    expect(ban.errors).toBeUndefined();
    const refused = await signOn(t, 'gus');
    expect(refused.location).toBe('/login?error=oidc_banned');
    expect(refused.browser.cookies(t.url).has('cabinet_session')).toBe(false);
    const failed = await t.gql<{
      auditEvents: { edges: { node: { targetLabel: string; details: string } }[] };
    }>(
      '{ auditEvents(action: "auth.login_failed") { edges { node { targetLabel details } } } }',
      {},
      { token },
    );
    expect(failed.data?.auditEvents.edges.map((e) => e.node)).toContainEqual({
      targetLabel: 'gus@example.com',
      details: JSON.stringify({ reason: 'banned', method: 'sign-on' }),
    });
  });

  it('signs in once when the same callback arrives several times at once', async () => {
    people.set('hal', { email: 'hal@example.com', email_verified: true });
    const browser = new Browser();
    const start = await browser.request(`${t.url}/auth/oidc/start`);
    const callback = await passProvider(browser, start.headers.get('location')!, 'hal', t.url);
    const cookie = `cabinet_oidc_state=${browser.cookies(t.url).get('cabinet_oidc_state')}`;
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(callback, { headers: { cookie }, redirect: 'manual' }).then((r) =>
          r.headers.get('location'),
        ),
      ),
    );
    expect(answers.filter((l) => l === '/')).toHaveLength(1);
    expect(answers.filter((l) => l === '/login?error=oidc_state')).toHaveLength(5);
    const db = t.server.connection.db;
    const user = await db
      .selectFrom('users')
      .select('id')
      .where('email', '=', 'hal@example.com')
      .executeTakeFirstOrThrow();
    const sessions = await db
      .selectFrom('sessions')
      .selectAll()
      .where('user_id', '=', user.id)
      .execute();
    expect(sessions).toHaveLength(1);
  });

  it('returns to the page the sign-in started from, and only to a page of the app', async () => {
    people.set('jo', { email: 'jo@example.com', email_verified: true });
    const back = await signOn(t, 'jo', new Browser(), '?redirectTo=%2Fworkspace%3Fq%3Dreport');
    expect(back.location).toBe('/workspace?q=report');
    expect(back.browser.cookies(t.url).has('cabinet_oidc_return')).toBe(false);
    for (const away of ['//evil.example/x', '/\\evil.example', 'https://evil.example', '/a b']) {
      const res = await signOn(t, 'jo', new Browser(), `?redirectTo=${encodeURIComponent(away)}`);
      expect(res.location, away).toBe('/');
    }
    // A refused sign-on forgets where it was going.
    const browser = new Browser();
    await browser.request(`${t.url}/auth/oidc/start?redirectTo=%2Faccount`);
    const refused = await browser.request(`${t.url}/auth/oidc/callback?state=x&code=y`);
    expect(refused.headers.get('location')).toBe('/login?error=oidc_state');
    expect(browser.cookies(t.url).has('cabinet_oidc_return')).toBe(false);
  });

  it('answers the sign-in options and refuses other methods', async () => {
    const config = await t.gql<{ authConfig: unknown }>(
      '{ authConfig { passwordLogin oidc { name } } }',
    );
    expect(config.data?.authConfig).toEqual({ passwordLogin: true, oidc: { name: 'Test IdP' } });
    const post = await fetch(`${t.url}/auth/oidc/start`, { method: 'POST' });
    expect(post.status).toBe(405);
    const bare = await fetch(`${t.url}/auth/oidc/callback`, { redirect: 'manual' });
    expect(bare.headers.get('location')).toBe('/login?error=oidc_state');
  });
});

describe('PASSWORD_LOGIN=off', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({
      OIDC_ISSUER: 'http://127.0.0.1:9/',
      OIDC_CLIENT_ID: 'cabinet',
      PASSWORD_LOGIN: 'off',
    });
  });
  afterAll(() => t?.close());

  it('refuses login, register, resetPassword and passkey sign-in with FORBIDDEN', async () => {
    const register = await t.gql(
      'mutation { register(email: "a@example.com", name: "A", password: "long-enough-1") { token } }',
    );
    expect(errorCode(register)).toBe('FORBIDDEN');
    expect(register.errors?.[0]?.message).toMatch(/single sign-on/);
    const login = await t.gql(
      'mutation { login(email: "a@example.com", password: "long-enough-1") { token } }',
    );
    expect(errorCode(login)).toBe('FORBIDDEN');
    const reset = await t.gql(
      'mutation { resetPassword(token: "x", password: "long-enough-1") { token } }',
    );
    expect(errorCode(reset)).toBe('FORBIDDEN');
    // Passkeys are no way in either: sign-on is the only one.
    expect(errorCode(await t.gql('mutation { startPasskeyLogin }'))).toBe('FORBIDDEN');
    expect(
      errorCode(await t.gql('mutation { finishPasskeyLogin(response: "{}") { token } }')),
    ).toBe('FORBIDDEN');
    const config = await t.gql<{ authConfig: { passwordLogin: boolean } }>(
      '{ authConfig { passwordLogin } }',
    );
    expect(config.data?.authConfig.passwordLogin).toBe(false);
  });

  it('sends the browser back to the sign-in page when the provider cannot be reached', async () => {
    const res = await fetch(`${t.url}/auth/oidc/start`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login?error=oidc_unavailable');
  });
});

describe('sign-on configuration', () => {
  it('refuses to start with an incomplete or contradictory setup', () => {
    const load = (env: Record<string, string>) => () => loadConfig(env, '/tmp');
    expect(load({ OIDC_ISSUER: 'https://id.example.com' })).toThrow(/OIDC_CLIENT_ID/);
    expect(load({ OIDC_ISSUER: 'not a url', OIDC_CLIENT_ID: 'c' })).toThrow(ConfigError);
    expect(load({ PASSWORD_LOGIN: 'off' })).toThrow(/PASSWORD_LOGIN=off needs OIDC_ISSUER/);
    expect(load({ PASSWORD_LOGIN: 'maybe' })).toThrow(/PASSWORD_LOGIN must be/);
    expect(
      load({
        OIDC_ISSUER: 'https://id.example.com',
        OIDC_CLIENT_ID: 'c',
        PASSWORD_LOGIN: 'off',
        REQUIRE_ADMIN_TOTP: 'on',
      }),
    ).toThrow(/REQUIRE_ADMIN_TOTP=on needs password sign-in/);
    const config = loadConfig(
      { OIDC_ISSUER: 'https://id.example.com/realms/team', OIDC_CLIENT_ID: 'c' },
      '/tmp',
    );
    expect(config.oidc).toMatchObject({ name: 'id.example.com', adminGroup: null });
    expect(config.passwordLogin).toBe(true);
  });
});
