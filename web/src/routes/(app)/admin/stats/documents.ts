import { TagCountFields } from '$lib/graphql/documents';
import { graphql, type ResultOf } from '$lib/graphql/graphql';

/**
 * One answer of `downloadStats`, asked in parts: the page sends it once per part with one flag
 * set, so the chart and the headline figures do not wait for the slowest top list (a large tag's
 * top users take seconds where its series takes milliseconds).
 */
export const AdminStatsQuery = graphql(
  `
    query AdminStats(
      $from: DateTime
      $to: DateTime
      $interval: StatsInterval
      $fileId: ID
      $tagId: ID
      $userId: ID
      $headline: Boolean!
      $files: Boolean!
      $tags: Boolean!
      $users: Boolean!
    ) {
      downloadStats(
        from: $from
        to: $to
        interval: $interval
        fileId: $fileId
        tagId: $tagId
        userId: $userId
      ) {
        total @include(if: $headline)
        uniqueUsers @include(if: $headline)
        series @include(if: $headline) {
          start
          count
        }
        topFiles(limit: 8) @include(if: $files) {
          count
          file {
            id
            name
            mimeType
            status
          }
        }
        topTags(limit: 8) @include(if: $tags) {
          ...TagCountFields
        }
        topUsers(limit: 8) @include(if: $users) {
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

/** The parts of the statistics page, each one request of AdminStatsQuery. */
export type StatsPart = 'headline' | 'files' | 'tags' | 'users';

/** The flags of AdminStatsQuery that ask for `part` alone. */
export const partFlags = (part: StatsPart): Record<StatsPart, boolean> => ({
  headline: part === 'headline',
  files: part === 'files',
  tags: part === 'tags',
  users: part === 'users',
});

type Answer = ResultOf<typeof AdminStatsQuery>['downloadStats'];
/** The headline part: the range's total, its unique users and its series. */
export type StatsHeadline = Required<Pick<Answer, 'total' | 'uniqueUsers' | 'series'>>;
/** The three top lists, each present once its own part has arrived. */
export type StatsTopLists = Pick<Answer, 'topFiles' | 'topTags' | 'topUsers'>;

/** The name of a file picked through the address bar (?file=…). */
export const StatsFileNameQuery = graphql(`
  query StatsFileName($id: ID!) {
    file(id: $id) {
      id
      name
    }
  }
`);
