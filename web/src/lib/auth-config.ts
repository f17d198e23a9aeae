import { AuthConfigQuery } from './graphql/auth';
import { client } from './graphql/client';

export interface SignInOptions {
  /** False with PASSWORD_LOGIN=off: no password, registration, reset link or passkey. */
  passwordLogin: boolean;
  /** The single sign-on provider's name ("Sign in with <name>"), or null without one. */
  provider: string | null;
}

let asked: Promise<SignInOptions> | null = null;

/**
 * How this server lets people sign in (its configuration, so asked once per page load). A
 * failed request answers the default of every server, password sign-in, and is asked again
 * next time.
 */
export function signInOptions(): Promise<SignInOptions> {
  asked ??= client
    .query(AuthConfigQuery, {}, { requestPolicy: 'network-only' })
    .toPromise()
    .then((r) => {
      if (!r.data) {
        asked = null;
        return { passwordLogin: true, provider: null };
      }
      return {
        passwordLogin: r.data.authConfig.passwordLogin,
        provider: r.data.authConfig.oidc?.name ?? null,
      };
    });
  return asked;
}
