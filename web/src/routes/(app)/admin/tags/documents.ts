import { graphql } from '$lib/graphql/graphql';

export const AdminTagFields = graphql(`
  fragment AdminTagFields on Tag @_unmask {
    id
    name
    fileCount
    downloadCount
    createdAt
  }
`);

export const AdminTagsQuery = graphql(
  `
    query AdminTags($query: String, $orderBy: TagOrder, $first: Int, $offset: Int) {
      tags(query: $query, orderBy: $orderBy, first: $first, offset: $offset) {
        totalCount
        edges {
          node {
            ...AdminTagFields
          }
        }
      }
    }
  `,
  [AdminTagFields],
);

export const CreateTagMutation = graphql(
  `
    mutation CreateTag($name: String!) {
      createTag(name: $name) {
        ...AdminTagFields
      }
    }
  `,
  [AdminTagFields],
);

export const UpdateTagMutation = graphql(
  `
    mutation UpdateTag($id: ID!, $name: String!) {
      updateTag(id: $id, name: $name) {
        ...AdminTagFields
      }
    }
  `,
  [AdminTagFields],
);

export const DeleteTagMutation = graphql(`
  mutation DeleteTag($id: ID!) {
    deleteTag(id: $id)
  }
`);
