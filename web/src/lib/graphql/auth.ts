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

/** Whether the library has no account yet, so the first to register becomes its admin (public). */
export const NeedsFirstAccountQuery = graphql(`
  query NeedsFirstAccount {
    needsFirstAccount
  }
`);

// Every way of signing in below selects the user only: the web app signs in by cookie (HttpOnly),
// so it never selects the session token and no script of the page ever holds it.

export const LoginMutation = graphql(
  `
    mutation Login($email: String!, $password: String!, $totp: String) {
      login(email: $email, password: $password, totp: $totp) {
        user {
          ...ViewerFields
        }
      }
    }
  `,
  [ViewerFields],
);

export const RegisterMutation = graphql(
  `
    mutation Register($email: String!, $name: String!, $password: String!) {
      register(email: $email, name: $name, password: $password) {
        user {
          ...ViewerFields
        }
      }
    }
  `,
  [ViewerFields],
);

export const ResetPasswordMutation = graphql(
  `
    mutation ResetPassword($token: String!, $password: String!) {
      resetPassword(token: $token, password: $password) {
        user {
          ...ViewerFields
        }
      }
    }
  `,
  [ViewerFields],
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
        user {
          ...ViewerFields
        }
      }
    }
  `,
  [ViewerFields],
);
