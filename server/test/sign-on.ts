import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

// A real OpenID provider (the certified `oidc-provider`) for the sign-on tests, the fuzz suite
// and the crash drill, with a browser stand-in that follows redirects by hand, keeps cookies per
// origin and fills in the provider's own login and consent forms.

export interface Person {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface TestProvider {
  /** The issuer URL (the provider's own HTTP server on a random port). */
  issuer: string;
  /** Who signs in as which login name: the claims the provider hands out, changeable any time. */
  people: Map<string, Person>;
  /** The client `cabinet` (secret `cabinet-secret`) with these redirect URIs; call once. */
  configure(redirectUris: string[]): void;
  close(): Promise<void>;
}

export const CLIENT_ID = 'cabinet';
export const CLIENT_SECRET = 'cabinet-secret';

/**
 * Starts the provider's HTTP server first (Cabinet needs its URL, and it needs Cabinet's: the
 * redirect URI), then `configure` once Cabinet listens.
 */
export async function startProvider(): Promise<TestProvider> {
  const people = new Map<string, Person>();
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    people,
    configure(redirectUris) {
      const provider = new Provider(issuer, {
        clients: [
          {
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            redirect_uris: redirectUris,
            response_types: ['code'],
            grant_types: ['authorization_code'],
            token_endpoint_auth_method: 'client_secret_post',
          },
        ],
        async findAccount(_ctx, id) {
          return { accountId: id, claims: async () => ({ sub: id, ...people.get(id) }) };
        },
        claims: {
          openid: ['sub'],
          email: ['email', 'email_verified'],
          profile: ['name', 'groups'],
        },
        // Claims in the ID token itself, as Keycloak and Authentik put them.
        conformIdTokenClaims: false,
        features: { devInteractions: { enabled: true } },
        cookies: { keys: ['test-cookie-key'] },
      });
      handler = provider.callback();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Cabinet's environment for single sign-on with `provider`. */
export const oidcEnv = (provider: TestProvider, extra: Record<string, string> = {}) => ({
  OIDC_ISSUER: provider.issuer,
  OIDC_CLIENT_ID: CLIENT_ID,
  OIDC_CLIENT_SECRET: CLIENT_SECRET,
  ...extra,
});

/** Cookies per origin, the way a browser keeps them (paths ignored: one server per origin). */
export class Browser {
  private jars = new Map<string, Map<string, string>>();

  cookies(origin: string): Map<string, string> {
    let jar = this.jars.get(origin);
    if (!jar) this.jars.set(origin, (jar = new Map()));
    return jar;
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const origin = new URL(url).origin;
    const jar = this.cookies(origin);
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (gone) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }

  /** Follows redirects from `url` until one leaves for `stopAt` (not fetched) or a page answers. */
  async follow(url: string, stopAt: string): Promise<{ url: string; res: Response | null }> {
    let current = url;
    for (let i = 0; i < 20; i++) {
      if (current.startsWith(stopAt)) return { url: current, res: null };
      const res = await this.request(current);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: current, res };
      await res.arrayBuffer();
      current = new URL(location, current).href;
    }
    throw new Error('too many redirects');
  }
}

/**
 * Fills in the provider's login form (as `login`) and its consent form, wherever they come;
 * answers the URL of Cabinet (`appUrl`) the provider sent the browser back to, not fetched.
 */
export async function passProvider(
  browser: Browser,
  page: string,
  login: string,
  appUrl: string,
): Promise<string> {
  let { url, res } = await browser.follow(page, appUrl);
  for (let i = 0; i < 4 && res; i++) {
    const html = await res.text();
    const action = /action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`unexpected provider page: ${html.slice(0, 200)}`);
    const body = new URLSearchParams({ prompt, login, password: 'any' });
    const posted = await browser.request(new URL(action, url).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    await posted.arrayBuffer();
    const location = posted.headers.get('location');
    if (!location) throw new Error(`provider form answered ${posted.status}`);
    ({ url, res } = await browser.follow(new URL(location, url).href, appUrl));
  }
  if (res) throw new Error('the provider never sent the browser back');
  return url;
}
