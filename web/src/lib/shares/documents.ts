import { graphql } from '$lib/graphql/graphql';

export const ShareLinkFields = graphql(`
  fragment ShareLinkFields on ShareLink @_unmask {
    id
    url
    createdAt
    expiresAt
    hasPassword
    maxDownloads
    downloadCount
    lastUsedAt
    viewCount
    lastViewedAt
    revoked
    state
    note
    createdBy {
      id
      name
    }
    files {
      id
      name
    }
  }
`);

export const CreateShareLinkMutation = graphql(
  `
    mutation CreateShareLink(
      $fileIds: [ID!]!
      $expiresAt: DateTime
      $password: String
      $maxDownloads: Int
      $note: String
    ) {
      createShareLink(
        fileIds: $fileIds
        expiresAt: $expiresAt
        password: $password
        maxDownloads: $maxDownloads
        note: $note
      ) {
        ...ShareLinkFields
      }
    }
  `,
  [ShareLinkFields],
);

export const ShareLinksQuery = graphql(
  `
    query ShareLinks(
      $all: Boolean
      $state: ShareLinkState
      $query: String
      $first: Int
      $offset: Int
    ) {
      shareLinks(all: $all, state: $state, query: $query, first: $first, offset: $offset) {
        totalCount
        edges {
          node {
            ...ShareLinkFields
          }
        }
      }
    }
  `,
  [ShareLinkFields],
);

export const RevokeShareLinkMutation = graphql(`
  mutation RevokeShareLink($id: ID!) {
    revokeShareLink(id: $id)
  }
`);

export const PublicShareQuery = graphql(`
  query PublicShare($token: String!, $password: String) {
    share(token: $token, password: $password) {
      sharedBy
      note
      expiresAt
      downloadsLeft
      zipUrl
      files {
        id
        name
        size
        mimeType
        downloadUrl
        thumbnailUrl
        previewUrl
      }
    }
  }
`);
