import { redirect } from '@sveltejs/kit';
import { session } from '$lib/session.svelte';

export async function load() {
  const user = await session.ensure().catch(() => null);
  redirect(307, user ? '/workspace' : '/login');
}
