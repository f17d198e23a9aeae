import { graphql } from '$lib/graphql/graphql';

export const CreatePasswordResetLinkMutation = graphql(`
  mutation CreatePasswordResetLink($userId: ID!) {
    createPasswordResetLink(userId: $userId)
  }
`);
