import { goto } from '$app/navigation';
import { page } from '$app/state';
import type { ResultOf } from './graphql/graphql';
import { client, setUnauthenticatedHandler } from './graphql/client';
import { LogoutMutation, MeQuery } from './graphql/documents';
import { toAppError, type AppError } from './graphql/errors';
import { loginSearch } from './urls';
import { resolve } from '$app/paths';

export { loginSearch, safeRedirect } from './urls';

export type Viewer = NonNullable<ResultOf<typeof MeQuery>['me']>;

/** The session token as returned by login/register, kept for this tab only (Account page). */
export interface StoredToken {
  token: string;
  expiresAt: string;
}

const TOKEN_KEY = 'cabinet-session-token';

let user = $state.raw<Viewer | null>(null);
let checked = false;

function readToken(): StoredToken | null {
  try {
    const raw = sessionStorage.getItem(TOKEN_KEY);
    return raw ? (JSON.parse(raw) as StoredToken) : null;
  } catch {
    return null;
  }
}

export class SessionError extends Error {
  constructor(readonly appError: AppError) {
    super(appError.message);
  }
}

export const session = {
  /** The signed-in user, or null. Reactive. */
  get user(): Viewer | null {
    return user;
  },

  get isAdmin(): boolean {
    return user?.role === 'ADMIN';
  },

  /** Asks the server once per page load who is signed in; later calls answer from memory. */
  async ensure(): Promise<Viewer | null> {
    if (checked) return user;
    const result = await client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    if (result.error) throw new SessionError(toAppError(result.error));
    user = result.data?.me ?? null;
    checked = true;
    return user;
  },

  /** After login/register: remember who signed in, and the token to show on the Account page. */
  signedIn(payload: { token: string; expiresAt: string; user: Viewer }): void {
    user = payload.user;
    checked = true;
    try {
      sessionStorage.setItem(
        TOKEN_KEY,
        JSON.stringify({ token: payload.token, expiresAt: payload.expiresAt }),
      );
    } catch {
      // Storage can be disabled; the Account page then says the token is not available.
    }
  },

  /** Updates the remembered user after a profile change. */
  update(next: Viewer): void {
    user = next;
  },

  token(): StoredToken | null {
    return readToken();
  },

  /** Forgets the session locally (after logout, or when the server says it has ended). */
  clear(): void {
    user = null;
    checked = true;
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch {
      // ignore
    }
  },

  /** Ends the session on the server, then locally. */
  async logout(): Promise<AppError | null> {
    const result = await client.mutation(LogoutMutation, {}).toPromise();
    if (result.error) return toAppError(result.error);
    session.clear();
    return null;
  },
};

// A request answered UNAUTHENTICATED while we thought we were signed in: the session expired or
// was ended elsewhere (sign out everywhere, ban). Go to sign-in and come back here afterwards.
setUnauthenticatedHandler(() => {
  if (!user) return;
  session.clear();
  const here = page.url.pathname + page.url.search;
  void goto(resolve(`/login?${loginSearch('expired', here)}`), { replaceState: true });
});
