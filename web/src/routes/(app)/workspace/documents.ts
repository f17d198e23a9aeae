import { TagCountFields } from '$lib/graphql/documents';
import { FileFields } from '$lib/graphql/files';
import { graphql, type ResultOf } from '$lib/graphql/graphql';

/**
 * One request for the whole workspace: the page of files with the counts of the filtered result;
 * (as `facets`) the tag counts of the search alone, so the tag panel keeps listing every tag the
 * search can reach while the selection narrows the rows; and (as `chosen`) the selected tags'
 * names, which neither of the others carries when the search excludes them; (as `library`) how
 * many tags exist at all, so an empty panel can tell "no tags yet" from "none match".
 */
export const WorkspaceFilesQuery = graphql(
  `
    query WorkspaceFiles(
      $query: String
      $tagIds: [ID!]
      $tagMatch: TagMatch
      $orderBy: FileOrder
      $first: Int
      $offset: Int
      $hasTags: Boolean!
    ) {
      files(
        query: $query
        tagIds: $tagIds
        tagMatch: $tagMatch
        orderBy: $orderBy
        first: $first
        offset: $offset
      ) {
        totalCount
        edges {
          node {
            ...FileFields
          }
        }
        tagCounts {
          ...TagCountFields
        }
      }
      facets: files(query: $query, first: 1) {
        totalCount
        tagCounts {
          ...TagCountFields
        }
      }
      library: tags(first: 1) {
        totalCount
      }
      chosen: files(tagIds: $tagIds, tagMatch: ANY, first: 1) @include(if: $hasTags) {
        tagCounts {
          tag {
            id
            name
          }
        }
      }
    }
  `,
  [FileFields, TagCountFields],
);

/** One row of the table. */
export type FileItem = ResultOf<typeof WorkspaceFilesQuery>['files']['edges'][number]['node'];
