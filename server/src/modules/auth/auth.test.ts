import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { expectTouchedOncePerMinute } from '../../../test/library.js';

const REGISTER = `mutation($email: String!, $name: String!, $password: String!) {
  register(email: $email, name: $name, password: $password) { token expiresAt user { id email name role } } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id email } } }`;
const ME = `{ me { id email role banned lastActiveAt } }`;

describe('accounts and sessions', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());

  it('makes the first account ADMIN and later ones USER, storing email lower-case', async () => {
    const first = await t.gql(REGISTER, {
      email: 'Ada@Example.COM',
      name: ' Ada ',
      password: 'longenough',
    });
    expect(first.data).toMatchObject({
      register: { user: { email: 'ada@example.com', name: 'Ada', role: 'ADMIN' } },
    });
    const second = await t.gql(REGISTER, {
      email: 'bob@example.com',
      name: 'Bob',
      password: 'longenough',
    });
    expect(second.data).toMatchObject({ register: { user: { role: 'USER' } } });
  });

  it('refuses a taken email whatever its case with CONFLICT on the email field', async () => {
    const res = await t.gql(REGISTER, {
      email: 'ADA@example.com',
      name: 'Again',
      password: 'longenough',
    });
    expect(errorCode(res)).toBe('CONFLICT');
    expect(res.errors?.[0]?.extensions?.fields).toEqual({ email: 'is already registered' });
  });

  it.each([
    [
      { email: 'not-an-email', name: 'X', password: 'longenough' },
      { email: 'must be a valid email address' },
    ],
    [
      { email: 'x@example.com', name: '   ', password: 'longenough' },
      { name: 'must not be empty' },
    ],
    [
      { email: 'x@example.com', name: 'X'.repeat(101), password: 'longenough' },
      { name: 'must be at most 100 characters' },
    ],
    [
      { email: 'x@example.com', name: 'X', password: 'short' },
      { password: 'must be at least 8 characters' },
    ],
    [
      { email: 'x@example.com', name: 'X', password: 'p'.repeat(257) },
      { password: 'must be at most 256 characters' },
    ],
    [
      { email: 'x@example.com', name: 'a\u0000b', password: 'longenough' },
      { name: 'must not contain control characters' },
    ],
  ])('validates %o field by field', async (input, fields) => {
    const res = await t.gql(REGISTER, input);
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.fields).toEqual(fields);
    expect(res.data).toBeNull();
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const wrong = await t.gql(LOGIN, { email: 'bob@example.com', password: 'wrong password' });
    const unknown = await t.gql(LOGIN, { email: 'nobody@example.com', password: 'wrong password' });
    expect(errorCode(wrong)).toBe('BAD_USER_INPUT');
    expect(wrong.errors).toEqual(unknown.errors);
    // Found by the fuzz suite: a NUL in the email reached PostgreSQL (the per-email limiter).
    const nul = await t.gql(LOGIN, { email: 'bob\u0000@example.com', password: 'wrong password' });
    expect(nul.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      fields: { email: 'must be a valid email address' },
    });
  });

  it('sets an HttpOnly SameSite=Lax cookie on sign-in that authenticates with x-requested-with', async () => {
    const res = await t.gql(LOGIN, { email: 'BOB@example.com', password: 'longenough' });
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cabinet_session=[\w-]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i);
    const pair = cookie.split(';')[0]!;
    const me = await t.gql(ME, {}, { headers: { cookie: pair, 'x-requested-with': 'test' } });
    expect(me.data).toMatchObject({ me: { email: 'bob@example.com', role: 'USER' } });
  });

  it('refuses a cookie request without x-requested-with or a JSON type before running it (CSRF)', async () => {
    const login = await t.gql(LOGIN, { email: 'bob@example.com', password: 'longenough' });
    const pair = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
    const form = new URLSearchParams({ query: 'mutation { logout }' });
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { cookie: pair, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('FORBIDDEN');
    const get = await fetch(`${t.url}/graphql?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { cookie: pair },
    });
    expect(get.status).toBe(403);
    // The session still works: the refused logout never ran.
    const me = await t.gql(ME, {}, { headers: { cookie: pair } });
    expect(me.data).toMatchObject({ me: { email: 'bob@example.com' } });
  });

  it('accepts the same token as a Bearer header, and logout ends it', async () => {
    const { data } = await t.gql<{ login: { token: string } }>(LOGIN, {
      email: 'bob@example.com',
      password: 'longenough',
    });
    const token = data!.login.token;
    expect((await t.gql(ME, {}, { token })).data).toMatchObject({
      me: { email: 'bob@example.com' },
    });
    const out = await t.gql(`mutation { logout }`, {}, { token });
    expect(out.data).toEqual({ logout: true });
    expect((await t.gql(ME, {}, { token })).data).toEqual({ me: null });
  });

  it('stores only a hash of session tokens', async () => {
    const { token } = await t.signUp('hash@example.com');
    const rows = await t.server.connection.db.selectFrom('sessions').select('id').execute();
    expect(rows.map((r) => r.id)).not.toContain(token);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.id))).toBe(true);
  });

  it('logoutEverywhere ends every session of the user', async () => {
    const a = await t.gql<{ login: { token: string } }>(LOGIN, {
      email: 'bob@example.com',
      password: 'longenough',
    });
    const b = await t.gql<{ login: { token: string } }>(LOGIN, {
      email: 'bob@example.com',
      password: 'longenough',
    });
    await t.gql(`mutation { logoutEverywhere }`, {}, { token: a.data!.login.token });
    expect((await t.gql(ME, {}, { token: b.data!.login.token })).data).toEqual({ me: null });
  });

  it('gives anonymous callers null for me and UNAUTHENTICATED elsewhere', async () => {
    expect((await t.gql(ME)).data).toEqual({ me: null });
    expect(errorCode(await t.gql(`{ apiTokens { id } }`))).toBe('UNAUTHENTICATED');
    expect((await t.gql(ME, {}, { token: 'garbage' })).data).toEqual({ me: null });
  });

  it('records lastActiveAt without writing on every request', async () => {
    const { token, id } = await t.signUp('active@example.com');
    await expectTouchedOncePerMinute(t, { table: 'users', id: Number(id) }, () =>
      t.gql(ME, {}, { token }),
    );
  });

  it('masks unexpected errors and keeps the GraphQL codes for bad documents', async () => {
    const { token } = await t.signUp('mask@example.com');
    const parse = await t.gql(`{ me { id `);
    expect(errorCode(parse)).toBe('GRAPHQL_PARSE_FAILED');
    const invalid = await t.gql(`{ me { nope } }`);
    expect(errorCode(invalid)).toBe('GRAPHQL_VALIDATION_FAILED');
    // Break the database under the server: the SQL error must not reach the client.
    await t.server.connection.db.schema
      .alterTable('api_tokens')
      .renameTo('api_tokens_gone')
      .execute();
    try {
      const res = await t.gql(`{ apiTokens { id } }`, {}, { token });
      expect(errorCode(res)).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(res.errors)).not.toMatch(/api_tokens|sqlite|table/i);
    } finally {
      await t.server.connection.db.schema
        .alterTable('api_tokens_gone')
        .renameTo('api_tokens')
        .execute();
    }
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('secure cookies', () => {
  it('marks the cookie Secure when PUBLIC_ORIGIN is https', async () => {
    const t = await startTestServer({ PUBLIC_ORIGIN: 'https://files.example.com' });
    try {
      const res = await t.gql(REGISTER, {
        email: 'a@example.com',
        name: 'A',
        password: 'longenough',
      });
      expect(res.headers.get('set-cookie')).toMatch(/; Secure/i);
    } finally {
      await t.close();
    }
  });
});

describe('rate limits', () => {
  it('limits sign-in and sign-up attempts per client address', async () => {
    const t = await startTestServer({ AUTH_RATE_PER_ADDRESS: '3' });
    try {
      for (let i = 0; i < 3; i++)
        await t.gql(LOGIN, { email: 'x@example.com', password: 'whatever1' });
      const res = await t.gql(REGISTER, {
        email: 'new@example.com',
        name: 'New',
        password: 'longenough',
      });
      expect(errorCode(res)).toBe('RATE_LIMITED');
      const retryAfter = res.errors?.[0]?.extensions?.retryAfter as number;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
    } finally {
      await t.close();
    }
  });

  it('counts the addresses of one IPv6 /64 as one client', async () => {
    const t = await startTestServer({ AUTH_RATE_PER_ADDRESS: '3', TRUST_PROXY: '1' });
    try {
      const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
      // A host rotating through its /64 gets no fresh limit with each new address.
      for (const address of ['2001:db8:1:2::a', '2001:db8:1:2::b', '2001:db8:1:2:ffff::c']) {
        const res = await t.gql(
          LOGIN,
          { email: 'x@example.com', password: 'whatever1' },
          from(address),
        );
        expect(errorCode(res)).toBe('BAD_USER_INPUT');
      }
      const next = { email: 'x@example.com', password: 'whatever1' };
      expect(errorCode(await t.gql(LOGIN, next, from('2001:db8:1:2::d')))).toBe('RATE_LIMITED');
      // The next /64 is another client.
      expect(errorCode(await t.gql(LOGIN, next, from('2001:db8:1:3::a')))).toBe('BAD_USER_INPUT');
    } finally {
      await t.close();
    }
  });

  it('locks an email after 10 failed sign-ins, even for the right password', async () => {
    const t = await startTestServer();
    try {
      await t.signUp('victim@example.com', { password: 'the real password' });
      for (let i = 0; i < 10; i++) {
        const res = await t.gql(LOGIN, {
          email: 'victim@example.com',
          password: `guess number ${i}`,
        });
        expect(errorCode(res)).toBe('BAD_USER_INPUT');
      }
      const res = await t.gql(LOGIN, {
        email: 'Victim@example.com',
        password: 'the real password',
      });
      expect(errorCode(res)).toBe('RATE_LIMITED');
      expect(res.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(800);
    } finally {
      await t.close();
    }
  });
});
