import { redirect } from '@sveltejs/kit';
import { needsFirstAccount } from '$lib/first-account';
import { safeRedirect, session } from '$lib/session.svelte';

export async function load({ url }) {
  // Already signed in: go where the user was heading.
  const user = await session.ensure().catch(() => null);
  if (user) redirect(307, safeRedirect(url.searchParams.get('redirectTo')));
  // A fresh install has no one to sign in: its first visitor creates the admin account.
  if (await needsFirstAccount()) redirect(307, `/register${url.search}`);
}
