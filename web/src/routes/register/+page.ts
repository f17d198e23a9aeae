import { redirect } from '@sveltejs/kit';
import { signInOptions } from '$lib/auth-config';
import { needsFirstAccount } from '$lib/first-account';
import { safeRedirect, session } from '$lib/session.svelte';

export async function load({ url }) {
  const user = await session.ensure().catch(() => null);
  if (user) redirect(307, safeRedirect(url.searchParams.get('redirectTo')));
  // PASSWORD_LOGIN=off: accounts come from single sign-on only, so there is no registration.
  if (!(await signInOptions()).passwordLogin) redirect(307, `/login${url.search}`);
  return { firstAccount: await needsFirstAccount() };
}
