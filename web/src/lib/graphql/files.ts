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

/** Brings a file back from the trash (the trash page, and the undo after a delete). */
export const RestoreFileMutation = graphql(`
  mutation RestoreFile($id: ID!) {
    restoreFile(id: $id) {
      id
      name
    }
  }
`);

/** Bulk actions over selected files: each all or nothing on the server. */
export const DeleteFilesMutation = graphql(`
  mutation DeleteFiles($ids: [ID!]!) {
    deleteFiles(ids: $ids)
  }
`);

/** Brings many files back from the trash in one request (the trash page, a bulk undo). */
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
