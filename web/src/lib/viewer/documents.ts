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

/** The signed-in user's downloads of one file, newest first (the viewer's "Your downloads"). */
export const MyFileDownloadsQuery = graphql(`
  query MyFileDownloads($fileId: ID!, $first: Int) {
    myDownloads(fileId: $fileId, first: $first) {
      totalCount
      edges {
        node {
          id
          at
        }
      }
    }
  }
`);
