import { redirect } from '@sveltejs/kit';

// The admin area opens on its first section; the layout's tabs lead to the others.
export async function load({ parent }) {
  // The layout's guard runs first: a USER gets "Admins only", not a redirect.
  await parent();
  redirect(307, '/admin/users');
}
