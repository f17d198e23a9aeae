import { ViewerFields } from './documents';
import { graphql } from './graphql';

export const LoginMutation = graphql(
  `
    mutation Login($email: String!, $password: String!) {
      login(email: $email, password: $password) {
        token
        expiresAt
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
        token
        expiresAt
        user {
          ...ViewerFields
        }
      }
    }
  `,
  [ViewerFields],
);
