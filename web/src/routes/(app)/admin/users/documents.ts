import { graphql, type ResultOf } from '$lib/graphql/graphql';

export const AdminUserFields = graphql(`
  fragment AdminUserFields on User @_unmask {
    id
    email
    name
    role
    banned
    createdAt
    lastActiveAt
    uploadCount
    downloadCount
    usedBytes
    quotaBytes
    totpEnabled
  }
`);

export const AdminUsersQuery = graphql(
  `
    query AdminUsers($query: String, $orderBy: UserOrder, $first: Int, $offset: Int) {
      users(query: $query, orderBy: $orderBy, first: $first, offset: $offset) {
        totalCount
        edges {
          node {
            ...AdminUserFields
          }
        }
      }
    }
  `,
  [AdminUserFields],
);

export const BanUserMutation = graphql(
  `
    mutation BanUser($id: ID!) {
      banUser(id: $id) {
        ...AdminUserFields
      }
    }
  `,
  [AdminUserFields],
);

export const UnbanUserMutation = graphql(
  `
    mutation UnbanUser($id: ID!) {
      unbanUser(id: $id) {
        ...AdminUserFields
      }
    }
  `,
  [AdminUserFields],
);

export const SetUserRoleMutation = graphql(
  `
    mutation SetUserRole($id: ID!, $role: Role!) {
      setUserRole(id: $id, role: $role) {
        ...AdminUserFields
      }
    }
  `,
  [AdminUserFields],
);

export const SetUserQuotaMutation = graphql(
  `
    mutation SetUserQuota($id: ID!, $quotaBytes: SafeInt) {
      setUserQuota(id: $id, quotaBytes: $quotaBytes) {
        ...AdminUserFields
      }
    }
  `,
  [AdminUserFields],
);

/** One row of the table. */
export type User = ResultOf<typeof AdminUserFields>;
