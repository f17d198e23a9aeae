import { builder } from '../../graphql/builder.js';
import { TagCount } from '../tags/tags.graphql.js';
import { FileConnection, type FileListing } from '../files/files.graphql.js';

// FileConnection.tagCounts: facet counts over the whole filtered result of `files`, computed only
// when asked for (how: SEARCH.md).

builder.objectField(FileConnection, 'tagCounts', (t) =>
  t.field({
    type: [TagCount],
    description:
      'For each tag, how many files of the whole filtered result carry it: counts above zero, highest first, then by name.',
    // The connection carries its request's search (files.graphql.ts), so the plan is shared.
    resolve: (connection) => (connection as FileListing).search?.tagCounts() ?? [],
  }),
);
