import type { Db, UserRow } from '../src/db/database.js';
import type { Dialect } from '../src/db/connection.js';
import type { Viewer } from '../src/modules/auth/viewer.js';
import {
  createSearchService,
  searchTuning,
  type FileListArgs,
} from '../src/modules/search/search.service.js';
import { tagsOfFiles } from '../src/modules/tags/tags.repository.js';
import type { Case } from './queries.js';

// The search cases of the queries bench: the `files` listing as the workspace asks for it, and
// every shape typing into its search box produces (one, two, three characters, with tags ANY and
// tagCounts), as USER and as ADMIN.

export interface SearchBenchContext {
  dialect: Dialect;
  users: { admin: UserRow; user: UserRow };
  /** Two popular topical tags. */
  popular: { id: number; name: string }[];
  /** A whole word for the substring cases (BENCH_QUERY, default "budget"). */
  word: string;
}

const FILE_FIELDS = 'id name size mimeType createdAt downloadCount tags { id name }';

export function searchCases({ dialect, users, popular, word }: SearchBenchContext): Case[] {
  // BENCH_KEEP_ANSWERS=0: no answer is kept between requests, so each pays what the first person
  // to type a query pays (the server runs in this process: its tuning is this one).
  if (process.env.BENCH_KEEP_ANSWERS === '0') searchTuning.keepAnswers = false;
  const viewer = (as: Case['as']): Viewer => ({
    kind: 'session',
    user: users[as],
    sessionId: 'bench',
    sessionExpiresAt: new Date(Date.now() + 3600_000),
    renewed: false,
  });
  const twoTags = popular.map((t) => t.id);
  // One service for every capture, as the server has one: the name index is built once.
  const services = new Map<Db, Promise<ReturnType<typeof createSearchService>>>();
  const serviceOn = (d: Db) => {
    let s = services.get(d);
    if (!s) {
      const service = createSearchService({ reads: d, db: d, dialect });
      // Built before the first capture, as the server's is before the first case (queries.ts):
      // a query of three characters or more is answered from that index, and a capture made
      // while it builds would record the database's trigram path instead (a slower SQL than the
      // server runs) and leave the build running in this process, beside the server, through
      // the timed runs. A one-character query waits for the build.
      s = service
        .open(viewer('admin'), { query: 'e' })
        .read({ limit: 1, offset: 0 })
        .then(() => service);
      services.set(d, s);
    }
    return s;
  };

  const filesCase = (
    name: string,
    args: FileListArgs,
    options: { tagCounts?: boolean; offset?: number; as?: Case['as'] } = {},
  ): Case => {
    const { tagCounts = false, offset = 0, as = 'user' } = options;
    const variables: Record<string, unknown> = {};
    if (args.query) variables.query = args.query;
    if (args.tagIds) variables.tagIds = args.tagIds.map(String);
    if (args.tagMatch) variables.tagMatch = args.tagMatch;
    if (offset) variables.offset = offset;
    return {
      name,
      as,
      query: `query($query: String, $tagIds: [ID!], $tagMatch: TagMatch, $offset: Int) {
        files(query: $query, tagIds: $tagIds, tagMatch: $tagMatch, offset: $offset, first: 20) {
          totalCount edges { node { ${FILE_FIELDS} } }
          ${tagCounts ? 'tagCounts { count tag { id name } }' : ''} } }`,
      variables,
      async capture(d: Db) {
        const search = (await serviceOn(d)).open(viewer(as), args);
        const rows = await search.read({ limit: 21, offset, count: true, tagCounts });
        await tagsOfFiles(
          d,
          rows.slice(0, 20).map((r) => r.id),
        );
      },
    };
  };

  const typed: Case[] = [];
  for (const as of ['user', 'admin'] as const) {
    const who = as === 'admin' ? ', ADMIN' : '';
    for (const q of ['a', 'an', 'ing']) {
      typed.push(filesCase(`query "${q}" (typed)${who}`, { query: q }, { as }));
    }
    typed.push(
      filesCase(
        `query "an" + two tags ANY + tagCounts (typed)${who}`,
        { query: 'an', tagIds: twoTags, tagMatch: 'ANY' },
        { tagCounts: true, as },
      ),
      filesCase(
        `query "a" + two tags ALL + tagCounts (typed)${who}`,
        { query: 'a', tagIds: twoTags },
        { tagCounts: true, as },
      ),
      filesCase(`query "an" + tagCounts (typed)${who}`, { query: 'an' }, { tagCounts: true, as }),
    );
  }

  return [
    filesCase('first page of files', {}),
    filesCase(`query substring "${word}"`, { query: word }),
    filesCase(`two tags ALL (${popular.map((t) => t.name).join(' + ')})`, { tagIds: twoTags }),
    filesCase(
      'query + two tags + tagCounts',
      { query: word, tagIds: twoTags },
      { tagCounts: true },
    ),
    filesCase('offset page 5,000 (offset 100,000)', {}, { offset: 100_000 }),
    // What the workspace asks when a tag is picked in its tag panel: the page, the count and
    // the counts of every tag within the result.
    filesCase(
      `one tag + tagCounts (${popular[1]?.name}, the tag panel)`,
      { tagIds: [twoTags[1]!] },
      { tagCounts: true },
    ),
    filesCase(
      'two tags ANY + tagCounts',
      { tagIds: twoTags, tagMatch: 'ANY' },
      { tagCounts: true },
    ),
    ...typed,
  ];
}
