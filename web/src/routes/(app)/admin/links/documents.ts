import { graphql } from '$lib/graphql/graphql';
import { ShareLinkFields } from '$lib/shares/documents';

export const AdminShareLinksQuery = graphql(
  `
    query AdminShareLinks($state: ShareLinkState, $query: String, $first: Int, $offset: Int) {
      shareLinks(all: true, state: $state, query: $query, first: $first, offset: $offset) {
        totalCount
        edges {
          node {
            ...ShareLinkFields
          }
        }
      }
    }
  `,
  [ShareLinkFields],
);
