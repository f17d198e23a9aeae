import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { authenticate, register } from '../../../test/authenticator.js';
import { apiToken } from '../../../test/library.js';

// The whole ceremony in a browser is in web/tests/signin.spec.ts (Chromium's virtual
// authenticator); here: the options handed out, whole ceremonies with a software authenticator
// (test/authenticator.ts: a P-256 key, attestation "none"), and refusals of everything that is
// not a valid, fresh response: forged, replayed, a counter gone back, a banned owner.

const START_REG = `mutation { startPasskeyRegistration }`;
const FINISH_REG = `mutation($response: String!, $name: String) {
  finishPasskeyRegistration(response: $response, name: $name) { id name } }`;
const START_LOGIN = `mutation { startPasskeyLogin }`;
const FINISH_LOGIN = `mutation($response: String!) { finishPasskeyLogin(response: $response) { token } }`;

describe('passkeys', () => {
  let t: TestServer;
  let user: { token: string; id: string };
  beforeAll(async () => {
    t = await startTestServer();
    user = await t.signUp('keys@example.com');
  });
  afterAll(() => t.close());

  /** A new account with one passkey registered: the account, and the key as `register` made it. */
  const ownerWithPasskey = async (email: string) => {
    const owner = await t.signUp(email);
    const reg = await t.data<{ startPasskeyRegistration: string }>(
      START_REG,
      {},
      { token: owner.token },
    );
    const made = register(reg.startPasskeyRegistration, t.url);
    await t.data(FINISH_REG, { response: made.response }, { token: owner.token });
    return { owner, made };
  };
  /** A new session of the suite's first account, the admin. */
  const signInAsAdmin = async () =>
    (
      await t.data<{ login: { token: string } }>(
        'mutation { login(email: "keys@example.com", password: "correct horse battery") { token } }',
      )
    ).login.token;

  it('hands out registration and sign-in options for this host, with stored one-time challenges', async () => {
    const reg = await t.gql<{ startPasskeyRegistration: string }>(
      START_REG,
      {},
      { token: user.token },
    );
    const options = JSON.parse(reg.data!.startPasskeyRegistration) as {
      rp: { id: string; name: string };
      user: { name: string };
      challenge: string;
      authenticatorSelection: { residentKey: string };
    };
    expect(options.rp).toEqual({ id: '127.0.0.1', name: 'Cabinet' });
    expect(options.user.name).toBe('keys@example.com');
    expect(options.authenticatorSelection.residentKey).toBe('required');
    const login = await t.gql<{ startPasskeyLogin: string }>(START_LOGIN);
    const request = JSON.parse(login.data!.startPasskeyLogin) as {
      challenge: string;
      rpId: string;
    };
    expect(request.rpId).toBe('127.0.0.1');
    const rows = await t.server.connection.db
      .selectFrom('webauthn_challenges')
      .selectAll()
      .execute();
    expect(rows.map((r) => r.challenge).sort()).toEqual(
      [options.challenge, request.challenge].sort(),
    );
  });

  it('refuses malformed, huge, forged and unknown responses with BAD_USER_INPUT', async () => {
    const forged = JSON.stringify({
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: {
        clientDataJSON: 'e30',
        attestationObject: 'oA',
        authenticatorData: 'AA',
        signature: 'AA',
      },
      clientExtensionResults: {},
    });
    for (const response of [
      '',
      'not json',
      '{}',
      '[]',
      'null',
      '{"id":1,"response":{}}',
      'x'.repeat(200_000),
      forged,
    ]) {
      const reg = await t.gql(FINISH_REG, { response }, { token: user.token });
      expect(errorCode(reg), response.slice(0, 30)).toBe('BAD_USER_INPUT');
      const login = await t.gql(FINISH_LOGIN, { response });
      expect(errorCode(login), response.slice(0, 30)).toBe('BAD_USER_INPUT');
    }
    const passkeys = await t.server.connection.db.selectFrom('passkeys').selectAll().execute();
    expect(passkeys).toEqual([]);
  });

  it('needs a session for everything but signing in, and refuses other people’s passkeys', async () => {
    const read = await apiToken(t, user.token, ['READ']);
    expect(errorCode(await t.gql(START_REG))).toBe('UNAUTHENTICATED');
    expect(errorCode(await t.gql(START_REG, {}, { token: read }))).toBe('FORBIDDEN');
    expect(errorCode(await t.gql(`{ passkeys { id } }`, {}, { token: read }))).toBe('FORBIDDEN');
    expect((await t.gql(`{ passkeys { id } }`, {}, { token: user.token })).data).toEqual({
      passkeys: [],
    });
    const del = await t.gql(`mutation { deletePasskey(id: "nope") }`, {}, { token: user.token });
    expect(errorCode(del)).toBe('NOT_FOUND');
    const rename = await t.gql(
      `mutation { renamePasskey(id: "nope", name: "x") { id } }`,
      {},
      {
        token: user.token,
      },
    );
    expect(errorCode(rename)).toBe('NOT_FOUND');
    // Ids no credential can have (PostgreSQL refuses NUL in text) are unknown alike, not a 500.
    for (const id of ['a\u0000', 'x'.repeat(5000), 'a b']) {
      const gone = await t.gql(
        `mutation($id: ID!) { deletePasskey(id: $id) }`,
        { id },
        {
          token: user.token,
        },
      );
      expect(errorCode(gone)).toBe('NOT_FOUND');
      const renamed = await t.gql(
        `mutation($id: ID!) { renamePasskey(id: $id, name: "x") { id } }`,
        { id },
        { token: user.token },
      );
      expect(errorCode(renamed)).toBe('NOT_FOUND');
    }
  });

  it('registers a passkey and signs in with it, without email or password', async () => {
    const owner = await t.signUp('ceremony@example.com');
    const reg = await t.gql<{ startPasskeyRegistration: string }>(
      START_REG,
      {},
      { token: owner.token },
    );
    const made = register(reg.data!.startPasskeyRegistration, t.url);
    const finished = await t.gql<{ finishPasskeyRegistration: { id: string; name: string } }>(
      FINISH_REG,
      { response: made.response, name: 'Software key' },
      { token: owner.token },
    );
    expect(finished.errors).toBeUndefined();
    expect(finished.data?.finishPasskeyRegistration).toEqual({
      id: made.credential.id,
      name: 'Software key',
    });
    // The registration's challenge is used up: the same response again is refused.
    const again = await t.gql(
      FINISH_REG,
      { response: made.response, name: 'Twice' },
      { token: owner.token },
    );
    expect(errorCode(again)).toBe('BAD_USER_INPUT');

    const login = await t.gql<{ startPasskeyLogin: string }>(START_LOGIN);
    const assertion = authenticate(login.data!.startPasskeyLogin, t.url, made.credential);
    const signedIn = await t.gql<{ finishPasskeyLogin: { token: string } }>(FINISH_LOGIN, {
      response: assertion,
    });
    expect(signedIn.errors).toBeUndefined();
    const me = await t.gql<{ me: { email: string } }>(
      '{ me { email } }',
      {},
      { token: signedIn.data!.finishPasskeyLogin.token },
    );
    expect(me.data?.me.email).toBe('ceremony@example.com');
    const listed = await t.gql<{ passkeys: { id: string; lastUsedAt: string | null }[] }>(
      '{ passkeys { id lastUsedAt } }',
      {},
      { token: owner.token },
    );
    expect(listed.data?.passkeys).toHaveLength(1);
    expect(listed.data?.passkeys[0]?.lastUsedAt).not.toBeNull();
    // The very same assertion again: its challenge is gone.
    expect(errorCode(await t.gql(FINISH_LOGIN, { response: assertion }))).toBe('BAD_USER_INPUT');
    // Signed for another origin (a phishing page): refused.
    const other = await t.gql<{ startPasskeyLogin: string }>(START_LOGIN);
    const phished = authenticate(other.data!.startPasskeyLogin, 'http://evil.example', {
      ...made.credential,
    });
    expect(errorCode(await t.gql(FINISH_LOGIN, { response: phished }))).toBe('BAD_USER_INPUT');
  });

  it('refuses an assertion whose counter did not move on (a cloned key), audited', async () => {
    const { made } = await ownerWithPasskey('counter@example.com');
    const signIn = async (counter?: number) => {
      const start = await t.gql<{ startPasskeyLogin: string }>(START_LOGIN);
      const response = authenticate(start.data!.startPasskeyLogin, t.url, made.credential, counter);
      return t.gql<{ finishPasskeyLogin: { token: string } }>(FINISH_LOGIN, { response });
    };
    expect((await signIn(5)).data?.finishPasskeyLogin.token).toBeTruthy();
    // A fresh challenge, properly signed, but the counter is where it was, then behind it.
    expect(errorCode(await signIn(5))).toBe('BAD_USER_INPUT');
    expect(errorCode(await signIn(4))).toBe('BAD_USER_INPUT');
    const row = await t.server.connection.db
      .selectFrom('passkeys')
      .select('counter')
      .where('id', '=', made.credential.id)
      .executeTakeFirstOrThrow();
    expect(row.counter).toBe(5);
    expect((await signIn(6)).data?.finishPasskeyLogin.token).toBeTruthy();

    const admin = await signInAsAdmin();
    const events = await t.gql<{
      auditEvents: { edges: { node: { targetLabel: string; details: string } }[] };
    }>(
      '{ auditEvents(action: "auth.login_failed") { edges { node { targetLabel details } } } }',
      {},
      { token: admin },
    );
    const mine = events
      .data!.auditEvents.edges.map((e) => e.node)
      .filter((e) => e.targetLabel === 'counter@example.com')
      .map((e) => (JSON.parse(e.details) as { reason: string }).reason);
    expect(mine).toEqual(['passkey counter replayed', 'passkey counter replayed']);
  });

  it('refuses a banned owner’s passkey', async () => {
    const { owner, made } = await ownerWithPasskey('banned-key@example.com');
    const admin = await signInAsAdmin();
    await t.gql(
      'mutation($id: ID!) { banUser(id: $id) { id } }',
      { id: owner.id },
      { token: admin },
    );
    const start = await t.gql<{ startPasskeyLogin: string }>(START_LOGIN);
    const response = authenticate(start.data!.startPasskeyLogin, t.url, made.credential);
    expect(errorCode(await t.gql(FINISH_LOGIN, { response }))).toBe('FORBIDDEN');
  });
});
