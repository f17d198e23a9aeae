import { ViewerFields } from './documents';
import { graphql } from './graphql';

/** What the sign-in page offers: password, single sign-on, or both (public). */
export const AuthConfigQuery = graphql(`
  query AuthConfig {
    authConfig {
      passwordLogin
      oidc {
        name
      }
    }
  }
`);

/** Whether the library has no account yet: its first becomes the admin (public). */
export const NeedsFirstAccountQuery = graphql(`
  query NeedsFirstAccount {
    needsFirstAccount
  }
`);

/**
 * What the page reads from every way of signing in: the user. The web app signs in by cookie
 * (HttpOnly), so it never selects the session token and no script of the page ever holds it.
 */
export const SignedInFields = graphql(
  `
    fragment SignedInFields on AuthPayload @_unmask {
      user {
        ...ViewerFields
      }
    }
  `,
  [ViewerFields],
);

export const LoginMutation = graphql(
  `
    mutation Login($email: String!, $password: String!, $totp: String) {
      login(email: $email, password: $password, totp: $totp) {
        ...SignedInFields
      }
    }
  `,
  [SignedInFields],
);

export const RegisterMutation = graphql(
  `
    mutation Register($email: String!, $name: String!, $password: String!) {
      register(email: $email, name: $name, password: $password) {
        ...SignedInFields
      }
    }
  `,
  [SignedInFields],
);

export const ResetPasswordMutation = graphql(
  `
    mutation ResetPassword($token: String!, $password: String!) {
      resetPassword(token: $token, password: $password) {
        ...SignedInFields
      }
    }
  `,
  [SignedInFields],
);

export const StartPasskeyLoginMutation = graphql(`
  mutation StartPasskeyLogin {
    startPasskeyLogin
  }
`);

export const FinishPasskeyLoginMutation = graphql(
  `
    mutation FinishPasskeyLogin($response: String!) {
      finishPasskeyLogin(response: $response) {
        ...SignedInFields
      }
    }
  `,
  [SignedInFields],
);
