import { graphql } from '$lib/graphql/graphql';
import { AdminUserFields } from './documents';

export const CreatePasswordResetLinkMutation = graphql(`
  mutation CreatePasswordResetLink($userId: ID!) {
    createPasswordResetLink(userId: $userId)
  }
`);

export const DisableUserTotpMutation = graphql(
  `
    mutation DisableUserTotp($userId: ID!) {
      disableUserTotp(userId: $userId) {
        ...AdminUserFields
      }
    }
  `,
  [AdminUserFields],
);
