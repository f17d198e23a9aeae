import { graphql } from './graphql';

// Documents about files shared by the workspace, the upload machinery and the admin pages.

export const FileFields = graphql(`
  fragment FileFields on File @_unmask {
    id
    name
    originalName
    size
    mimeType
    status
    createdAt
    downloadCount
    downloadUrl
    thumbnailUrl
    previewUrl
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

export const UpdateFileMutation = graphql(
  `
    mutation UpdateFile($id: ID!, $name: String, $tags: [String!], $status: FileStatus) {
      updateFile(id: $id, name: $name, tags: $tags, status: $status) {
        ...FileFields
      }
    }
  `,
  [FileFields],
);

export const DeleteFileMutation = graphql(`
  mutation DeleteFile($id: ID!) {
    deleteFile(id: $id)
  }
`);
