import { graphql } from '$lib/graphql/graphql';

/** A row of the trash: what its cell draws and what restoring or purging it names. */
export const TrashFileFields = graphql(`
  fragment TrashFileFields on File @_unmask {
    id
    name
    size
    mimeType
    deletedAt
    purgeAt
    tags {
      id
      name
    }
    uploadedBy {
      id
      name
    }
  }
`);

export const TrashQuery = graphql(
  `
    query Trash($first: Int, $offset: Int) {
      trash(first: $first, offset: $offset) {
        totalCount
        edges {
          node {
            ...TrashFileFields
          }
        }
      }
    }
  `,
  [TrashFileFields],
);
