import { redirect } from '@sveltejs/kit';
import { safeRedirect, session } from '$lib/session.svelte';

export async function load({ url }) {
  // Already signed in: go where the user was heading.
  const user = await session.ensure().catch(() => null);
  if (user) redirect(307, safeRedirect(url.searchParams.get('redirectTo')));
}
