import { redirect } from '@sveltejs/kit';
import { signInOptions } from '$lib/auth-config';
import { needsFirstAccount } from '$lib/first-account';
import { safeRedirect, session } from '$lib/session.svelte';

export async function load({ url }) {
  // Already signed in: go where the user was heading.
  const user = await session.ensure().catch(() => null);
  if (user) redirect(307, safeRedirect(url.searchParams.get('redirectTo')));
  const [firstAccount, options] = await Promise.all([needsFirstAccount(), signInOptions()]);
  // A fresh install has no one to sign in: its first visitor creates the admin account, unless
  // password sign-in is off (then there is no registration; the page says how admins are made).
  if (firstAccount && options.passwordLogin) redirect(307, `/register${url.search}`);
  return { firstAccount, ...options };
}
