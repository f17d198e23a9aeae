import { error, redirect } from '@sveltejs/kit';
import { loginSearch, SessionError, session } from '$lib/session.svelte';

// The guard of every signed-in page: no session → sign-in, with the way back.
export async function load({ url, untrack }) {
  let user;
  try {
    user = await session.ensure();
  } catch (e) {
    if (e instanceof SessionError) error(503, e.message);
    throw e;
  }
  if (!user) {
    const here = untrack(() => url.pathname + url.search);
    redirect(307, `/login?${loginSearch('signin', here)}`);
  }
  return { user };
}
