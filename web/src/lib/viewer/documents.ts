import { FileFields } from '$lib/graphql/files';
import { graphql } from '$lib/graphql/graphql';

export const ViewerFileQuery = graphql(
  `
    query ViewerFile($id: ID!) {
      file(id: $id) {
        ...FileFields
        updatedAt
        lastDownloadedAt
      }
    }
  `,
  [FileFields],
);

/** The signed-in user's newest downloads (the viewer shows those of the file in view). */
export const MyRecentDownloadsQuery = graphql(`
  query MyRecentDownloads($first: Int) {
    myDownloads(first: $first) {
      edges {
        node {
          id
          at
          file {
            id
          }
        }
      }
    }
  }
`);
