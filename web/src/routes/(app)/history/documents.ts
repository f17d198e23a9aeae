import { graphql } from '$lib/graphql/graphql';

export const MyDownloadsQuery = graphql(`
  query MyDownloads($first: Int, $offset: Int) {
    myDownloads(first: $first, offset: $offset) {
      totalCount
      edges {
        node {
          id
          fileName
          at
          file {
            id
            name
            mimeType
            size
            downloadUrl
          }
        }
      }
    }
  }
`);
