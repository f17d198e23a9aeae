import { graphql } from '$lib/graphql/graphql';

export const ApiTokenFields = graphql(`
  fragment ApiTokenFields on ApiToken @_unmask {
    id
    name
    scopes
    createdAt
    expiresAt
    lastUsedAt
  }
`);

export const ApiTokensQuery = graphql(
  `
    query ApiTokens {
      apiTokens {
        ...ApiTokenFields
      }
    }
  `,
  [ApiTokenFields],
);

export const CreateApiTokenMutation = graphql(
  `
    mutation CreateApiToken($name: String!, $scopes: [ApiScope!]!, $expiresAt: DateTime) {
      createApiToken(name: $name, scopes: $scopes, expiresAt: $expiresAt) {
        token
        apiToken {
          ...ApiTokenFields
        }
      }
    }
  `,
  [ApiTokenFields],
);

export const RevokeApiTokenMutation = graphql(`
  mutation RevokeApiToken($id: ID!) {
    revokeApiToken(id: $id)
  }
`);

export const LogoutEverywhereMutation = graphql(`
  mutation LogoutEverywhere {
    logoutEverywhere
  }
`);

export const AccountStatsQuery = graphql(`
  query AccountStats {
    me {
      id
      uploadCount
      hiddenUploadCount
      downloadCount
    }
  }
`);
