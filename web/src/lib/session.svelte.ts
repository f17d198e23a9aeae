import { goto } from '$app/navigation';
import { page } from '$app/state';
import type { ResultOf } from './graphql/graphql';
import { client, setUnauthenticatedHandler } from './graphql/client';
import { LogoutMutation, MeQuery } from './graphql/documents';
import { toAppError, type AppError } from './graphql/errors';
import { loginSearch } from './urls';
import { toast } from './toast.svelte';
import { uploads } from './uploads.svelte';
import { resolve } from '$app/paths';

export { loginSearch, safeRedirect } from './urls';

export type Viewer = NonNullable<ResultOf<typeof MeQuery>['me']>;

let user = $state.raw<Viewer | null>(null);
let checked = false;

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

  /**
   * After login/register: remember who signed in. The session itself lives in the server's
   * HttpOnly cookie; the web app never asks for the token, so no script of the page can read it.
   */
  signedIn(payload: { user: Viewer }): void {
    user = payload.user;
    checked = true;
  },

  /** Updates the remembered user after a profile change. */
  update(next: Viewer): void {
    user = next;
  },

  /** Forgets the session locally (after logout, or when the server says it has ended). */
  clear(): void {
    user = null;
    checked = true;
  },

  /** Ends the session on the server, then locally. */
  async logout(): Promise<AppError | null> {
    const result = await client.mutation(LogoutMutation, {}).toPromise();
    if (result.error) return toAppError(result.error);
    session.clear();
    return null;
  },

  /**
   * The sign-out of every button and menu: asks first when uploads would be cancelled, then ends
   * the session and goes to sign-in. Resolves false when nothing happened.
   */
  async signOut(): Promise<boolean> {
    if (uploads.active > 0 && !confirm('Uploads are still running. Sign out and cancel them?')) {
      return false;
    }
    const error = await session.logout();
    if (error) {
      toast.error(error.message);
      return false;
    }
    await goto(resolve('/login?reason=signedout'), { replaceState: true });
    return true;
  },

  /** After `logoutEverywhere`: forget the session here and say so on the sign-in page. */
  async endedEverywhere(): Promise<void> {
    session.clear();
    await goto(resolve('/login?reason=everywhere'), { replaceState: true });
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
