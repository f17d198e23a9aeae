import { TagCountFields } from '$lib/graphql/documents';
import { graphql, type ResultOf } from '$lib/graphql/graphql';

export const AdminStatsQuery = graphql(
  `
    query AdminStats(
      $from: DateTime
      $to: DateTime
      $interval: StatsInterval
      $fileId: ID
      $tagId: ID
      $userId: ID
    ) {
      downloadStats(
        from: $from
        to: $to
        interval: $interval
        fileId: $fileId
        tagId: $tagId
        userId: $userId
      ) {
        total
        uniqueUsers
        series {
          start
          count
        }
        topFiles(limit: 8) {
          count
          file {
            id
            name
            mimeType
            status
          }
        }
        topTags(limit: 8) {
          ...TagCountFields
        }
        topUsers(limit: 8) {
          count
          user {
            id
            name
            email
          }
        }
      }
    }
  `,
  [TagCountFields],
);

/** The name of a file picked through the address bar (?file=…). */
export const StatsFileNameQuery = graphql(`
  query StatsFileName($id: ID!) {
    file(id: $id) {
      id
      name
    }
  }
`);

/** What the statistics page draws: one answer of `downloadStats`. */
export type StatsData = ResultOf<typeof AdminStatsQuery>['downloadStats'];
