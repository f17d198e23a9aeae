import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../../test/harness.js';
import { apiToken } from '../../../test/library.js';

// The whole ceremony with a real authenticator is in web/tests/signin.spec.ts (Chromium's virtual
// authenticator); here: the options handed out, and refusals of everything that is not a valid,
// fresh response.

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
});
