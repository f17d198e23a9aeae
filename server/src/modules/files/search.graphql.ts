import { builder } from '../../graphql/builder.js';
import { TagCount } from '../tags/tags.graphql.js';
import { FileConnection, type FileListing } from './files.graphql.js';

// FileConnection.tagCounts: facet counts over the whole filtered result of `files`, computed only
// when asked for (see SEARCH.md for the query shapes).

builder.objectField(FileConnection, 'tagCounts', (t) =>
  t.field({
    type: [TagCount],
    description:
      'For each tag, how many files of the whole filtered result carry it: counts above zero, highest first, then by name.',
    resolve: (connection, _args, ctx) =>
      ctx.services.files.tagCounts(ctx.viewer!, (connection as FileListing).args),
  }),
);
