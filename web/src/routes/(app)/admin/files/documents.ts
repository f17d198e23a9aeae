import { TagCountFields } from '$lib/graphql/documents';
import { FileFields } from '$lib/graphql/files';
import { graphql, type ResultOf } from '$lib/graphql/graphql';

export const AdminFilesQuery = graphql(
  `
    query AdminFiles(
      $query: String
      $status: FileStatus
      $tagIds: [ID!]
      $uploadedBy: ID
      $orderBy: FileOrder
      $first: Int
      $offset: Int
    ) {
      files(
        query: $query
        status: $status
        tagIds: $tagIds
        uploadedBy: $uploadedBy
        orderBy: $orderBy
        first: $first
        offset: $offset
      ) {
        totalCount
        tagCounts {
          ...TagCountFields
        }
        edges {
          node {
            ...FileFields
            sha256
            lastDownloadedAt
            uploadedBy {
              id
              name
              email
            }
          }
        }
      }
    }
  `,
  [FileFields, TagCountFields],
);

export const FileDownloadsQuery = graphql(`
  query AdminFileDownloads($fileId: ID!, $first: Int, $offset: Int) {
    downloads(fileId: $fileId, first: $first, offset: $offset) {
      totalCount
      edges {
        node {
          id
          at
          fileName
          user {
            id
            name
            email
          }
          shareLink {
            id
            createdBy {
              name
            }
          }
        }
      }
    }
  }
`);

/** One row of the table. */
export type FileRow = ResultOf<typeof AdminFilesQuery>['files']['edges'][number]['node'];
