import { error } from '@sveltejs/kit';

// The guard of every admin page: a USER sees the "Admins only" page (../+error.svelte).
export async function load({ parent }) {
  const { user } = await parent();
  if (user.role !== 'ADMIN') error(403, 'Admins only');
  return {};
}
