import { signInOptions } from '$lib/auth-config';

// With PASSWORD_LOGIN=off the password, two-factor and passkey cards have nothing to offer:
// single sign-on is the only way in, and the provider keeps its own second factor.
export async function load() {
  return { passwordLogin: (await signInOptions()).passwordLogin };
}
