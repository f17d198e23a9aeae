import { graphql } from '$lib/graphql/graphql';

export const AuditEventsQuery = graphql(`
  query AuditEvents(
    $action: String
    $actorId: ID
    $from: DateTime
    $to: DateTime
    $first: Int
    $offset: Int
  ) {
    auditEvents(
      action: $action
      actorId: $actorId
      from: $from
      to: $to
      first: $first
      offset: $offset
    ) {
      totalCount
      pageInfo {
        hasNextPage
      }
      edges {
        node {
          id
          at
          actor {
            id
            name
          }
          actorLabel
          action
          targetType
          targetId
          targetLabel
          address
          details
        }
      }
    }
  }
`);
