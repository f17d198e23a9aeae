import { redirect } from '@sveltejs/kit';
import { needsFirstAccount } from '$lib/first-account';
import { safeRedirect, session } from '$lib/session.svelte';

export async function load({ url }) {
  const user = await session.ensure().catch(() => null);
  if (user) redirect(307, safeRedirect(url.searchParams.get('redirectTo')));
  return { firstAccount: await needsFirstAccount() };
}
