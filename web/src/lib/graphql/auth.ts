import { ViewerFields } from './documents';
import { graphql } from './graphql';

// The web app signs in by cookie (HttpOnly): it does not select the session token, so no script
// of the page ever holds it.

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

export const NeedsFirstAccountQuery = graphql(`
  query NeedsFirstAccount {
    needsFirstAccount
  }
`);

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
