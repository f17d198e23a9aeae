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
