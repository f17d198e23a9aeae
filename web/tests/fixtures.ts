/**
 * Shared Playwright fixtures: a real Cabinet server per worker (random port, temp SQLite database
 * and FILES_DIR, serving web/build), `baseURL` pointing at it, and helpers to create users and
 * data through the public API. Import `test` and `expect` from here, not from @playwright/test.
 *
 *   import { expect, test } from './fixtures';
 *   test('…', async ({ page, api }) => {
 *     const user = await api.register();          // a USER (the worker's admin exists already)
 *     await signIn(page, user);                    // cookie set in the page's context
 *   });
 *
 * Every server starts with one ADMIN (`cabinet.admin`) so accounts registered by tests are plain
 * USERs whatever the order. `test.use({ ownServer: true })` gives each test of a file or describe
 * block a server of its own (empty library, counts of its own; `serverEnv` adds environment). A
 * test that needs an empty database (first sign-up becomes admin) uses `freshServer`.
 */
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOT_DIR = path.join(ROOT, 'artifacts', 'screenshots');
export const PASSWORD = 'correct horse battery';

export interface TestUser {
  id: string;
  name: string;
  email: string;
  password: string;
  role: 'USER' | 'ADMIN';
  /** Session token from register (Bearer for API calls). */
  token: string;
}

export interface CabinetServer {
  url: string;
  /** The worker's first account, an ADMIN. */
  admin: TestUser;
  stop(): Promise<void>;
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

let counter = 0;
/** A unique, valid email for this run. */
export function uniqueEmail(prefix = 'user'): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}@example.test`;
}

/**
 * Starts the built server (`server/dist/main.js`, what `npm start` runs; the global setup builds
 * it) as a child process and waits until it listens.
 */
export async function startCabinet(
  env: Record<string, string> = {},
): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cabinet-e2e-'));
  await mkdir(path.join(dir, 'files'), { recursive: true });
  const child: ChildProcess = spawn(process.execPath, ['server/dist/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
      FILES_DIR: path.join(dir, 'files'),
      WEB_DIR: path.join(ROOT, 'web', 'build'),
      AUTH_RATE_PER_ADDRESS: '100000',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 90 s:\n${output}`)),
      90_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output}`));
    });
  });
  // Keep draining the pipes so a chatty server never blocks on a full buffer.
  child.stdout!.resume();
  child.stderr!.on('data', (chunk: Buffer) => {
    if (process.env.CABINET_E2E_LOGS) process.stderr.write(chunk);
  });
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** POSTs a GraphQL document (JSON, optionally with a Bearer token). */
export async function gql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<GraphQLResponse<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Like `gql`, but throws on errors and returns `data`. */
export async function gqlOk<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const result = await gql<T>(url, query, variables, token);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL failed: ${JSON.stringify(result.errors)}`);
  }
  return result.data;
}

const REGISTER = `mutation ($email: String!, $name: String!, $password: String!) {
  register(email: $email, name: $name, password: $password) { token user { id name email role } }
}`;

export async function registerUser(
  url: string,
  options: { name?: string; email?: string; password?: string } = {},
): Promise<TestUser> {
  const email = options.email ?? uniqueEmail();
  const name = options.name ?? 'Test User';
  const password = options.password ?? PASSWORD;
  const data = await gqlOk<{
    register: { token: string; user: { id: string; name: string; email: string; role: string } };
  }>(url, REGISTER, { email, name, password });
  const { token, user } = data.register;
  return { ...user, role: user.role as TestUser['role'], password, token };
}

/** Uploads bytes through the GraphQL multipart route as `token`'s user; returns the file id. */
export async function uploadFile(
  url: string,
  token: string,
  file: { name: string; content: string | Buffer; type?: string; tags?: string[] },
): Promise<{ id: string; name: string }> {
  const body = new FormData();
  body.append(
    'operations',
    JSON.stringify({
      query: `mutation ($file: Upload!, $tags: [String!]) { uploadFile(file: $file, tags: $tags) { id name } }`,
      variables: { file: null, tags: file.tags ?? null },
    }),
  );
  body.append('map', JSON.stringify({ 0: ['variables.file'] }));
  const bytes = typeof file.content === 'string' ? Buffer.from(file.content) : file.content;
  body.append(
    '0',
    new Blob([new Uint8Array(bytes)], { type: file.type ?? 'text/plain' }),
    file.name,
  );
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body,
  });
  const json = (await response.json()) as GraphQLResponse<{
    uploadFile: { id: string; name: string };
  }>;
  if (json.errors?.length || !json.data) throw new Error(`upload failed: ${JSON.stringify(json)}`);
  return json.data.uploadFile;
}

/**
 * Signs `user` in through the API from the page's own context, so the browser gets the session
 * cookie without going through the form (tests of the form use the UI instead).
 */
export async function signIn(page: Page, user: Pick<TestUser, 'email' | 'password'>) {
  const response = await page.request.post('/graphql', {
    // page.request keeps its connection open, and reusing it after the server's 5 s keep-alive
    // can meet the server closing it (ECONNRESET): requests that a test may follow with another
    // only seconds later close theirs.
    headers: { connection: 'close' },
    data: {
      query: `mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }`,
      variables: { email: user.email, password: user.password },
    },
  });
  const json = (await response.json()) as GraphQLResponse<unknown>;
  expect(json.errors, 'sign-in through the API').toBeUndefined();
}

/** Saves a full-page screenshot to artifacts/screenshots/<name>-<theme>.png. */
export async function screenshot(page: Page, name: string) {
  const theme = await page.evaluate(() => document.documentElement.dataset.theme ?? 'light');
  await page.screenshot({
    path: path.join(SCREENSHOT_DIR, `${name}-${theme}.png`),
    fullPage: true,
  });
}

export interface Api {
  url: string;
  register(options?: { name?: string; email?: string; password?: string }): Promise<TestUser>;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<T>>;
  upload(
    token: string,
    file: { name: string; content: string | Buffer; type?: string; tags?: string[] },
  ): Promise<{ id: string; name: string }>;
}

function apiFor(url: string): Api {
  return {
    url,
    register: (options) => registerUser(url, options),
    gql: (query, variables, token) => gql(url, query, variables, token),
    upload: (token, file) => uploadFile(url, token, file),
  };
}

async function startWithAdmin(env: Record<string, string> = {}): Promise<CabinetServer> {
  const running = await startCabinet(env);
  try {
    const admin = await registerUser(running.url, {
      name: 'Ada Admin',
      email: uniqueEmail('admin'),
    });
    return { url: running.url, admin, stop: running.stop };
  } catch (error) {
    await running.stop();
    throw error;
  }
}

export const test = base.extend<
  {
    /**
     * `test.use({ ownServer: true })`: the tests of that scope get a server of their own (with its
     * admin), so counts and empty states are theirs alone. Extra environment: `serverEnv`.
     */
    ownServer: boolean;
    serverEnv: Record<string, string>;
    /** The server this test talks to (the worker's, or its own). */
    cabinet: CabinetServer;
    api: Api;
    /** A private server with an empty database (the first sign-up becomes admin). */
    freshServer: { url: string; api: Api };
    /**
     * Whether the test may make the Content-Security-Policy refuse something. Off: any refusal
     * fails the test, so the policy cannot quietly break a feature.
     */
    allowCspRefusals: boolean;
    /** What the policy refused on `page` so far (the browser's console messages). */
    cspRefusals: string[];
  },
  { server: CabinetServer; lazyServer: { get(): Promise<CabinetServer> } }
>({
  ownServer: [false, { option: true }],
  allowCspRefusals: [false, { option: true }],
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
  cspRefusals: async ({}, use) => {
    await use([]);
  },
  page: async ({ page, allowCspRefusals, cspRefusals }, use) => {
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/.test(message.text())) {
        cspRefusals.push(message.text());
      }
    });
    await use(page);
    if (!allowCspRefusals) {
      expect(cspRefusals, 'what the Content-Security-Policy refused').toEqual([]);
    }
  },
  serverEnv: [{}, { option: true }],
  // The worker's shared server, started on first use only (tests with a server of their own never
  // pay for it).
  lazyServer: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
    async ({}, use) => {
      const shared: { started?: Promise<CabinetServer> } = {};
      await use({ get: () => (shared.started ??= startWithAdmin()) });
      if (shared.started) await (await shared.started).stop();
    },
    { scope: 'worker', timeout: 150_000 },
  ],
  server: [
    async ({ lazyServer }, use) => {
      await use(await lazyServer.get());
    },
    { scope: 'worker', timeout: 150_000 },
  ],
  cabinet: async ({ ownServer, serverEnv, lazyServer }, use) => {
    if (!ownServer && Object.keys(serverEnv).length === 0) {
      await use(await lazyServer.get());
      return;
    }
    const own = await startWithAdmin(serverEnv);
    await use(own);
    await own.stop();
  },
  baseURL: async ({ cabinet }, use) => {
    await use(cabinet.url);
  },
  api: async ({ cabinet }, use) => {
    await use(apiFor(cabinet.url));
  },
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form
  freshServer: async ({}, use) => {
    const running = await startCabinet();
    await use({ url: running.url, api: apiFor(running.url) });
    await running.stop();
  },
});

export { expect };

/**
 * Holds every request matching `pattern` until the returned function is called: to look at the
 * page while what it waits for is "on its way".
 */
export async function holdRequests(page: Page, pattern: string): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route(pattern, async (route) => {
    await released;
    await route.continue();
  });
  return release;
}
