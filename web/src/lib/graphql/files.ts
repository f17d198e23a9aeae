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

/**
 * Moving to the trash and back, of one file (its Delete dialog and Undo) or of selected files (bulk
 * bars), and the other bulk actions: each all or nothing on the server, which does for one id what
 * `deleteFile` and `restoreFile` do, so one path serves both.
 */
export const DeleteFilesMutation = graphql(`
  mutation DeleteFiles($ids: [ID!]!) {
    deleteFiles(ids: $ids)
  }
`);

export const RestoreFilesMutation = graphql(`
  mutation RestoreFiles($ids: [ID!]!) {
    restoreFiles(ids: $ids) {
      id
    }
  }
`);

export const PurgeFilesMutation = graphql(`
  mutation PurgeFiles($ids: [ID!]!) {
    purgeFiles(ids: $ids)
  }
`);

export const SetFilesStatusMutation = graphql(`
  mutation SetFilesStatus($ids: [ID!]!, $status: FileStatus!) {
    setFilesStatus(ids: $ids, status: $status) {
      id
      status
    }
  }
`);

export const TagFilesMutation = graphql(`
  mutation TagFiles($ids: [ID!]!, $add: [String!], $remove: [String!]) {
    tagFiles(ids: $ids, add: $add, remove: $remove) {
      id
      tags {
        id
        name
      }
    }
  }
`);
