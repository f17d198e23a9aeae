import { graphql } from '$lib/graphql/graphql';

export const TrashQuery = graphql(`
  query Trash($first: Int, $offset: Int) {
    trash(first: $first, offset: $offset) {
      totalCount
      edges {
        node {
          id
          name
          size
          mimeType
          deletedAt
          tags {
            id
            name
          }
          uploadedBy {
            id
            name
          }
        }
      }
    }
  }
`);
