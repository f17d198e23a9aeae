import { graphql } from './graphql';

// Documents used in more than one place. Route-only documents live beside their route.

export const ViewerFields = graphql(`
  fragment ViewerFields on User @_unmask {
    id
    name
    email
    role
    createdAt
  }
`);

/** A tag with a count: of the files in a result that carry it, or of their downloads. */
export const TagCountFields = graphql(`
  fragment TagCountFields on TagCount @_unmask {
    count
    tag {
      id
      name
    }
  }
`);

export const MeQuery = graphql(
  `
    query Me {
      me {
        ...ViewerFields
      }
    }
  `,
  [ViewerFields],
);

export const LogoutMutation = graphql(`
  mutation Logout {
    logout
  }
`);

export const TagSuggestionsQuery = graphql(`
  query TagSuggestions($query: String, $first: Int) {
    tags(query: $query, first: $first) {
      edges {
        node {
          id
          name
          fileCount
        }
      }
    }
  }
`);
