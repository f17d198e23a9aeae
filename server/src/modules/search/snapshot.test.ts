import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../test/harness.js';
import { uploadOk } from '../../../test/uploads.js';

// One `files` connection is one read snapshot: its edges, totalCount and tagCounts describe the
// same moment of the library, even while files arrive. Without it, a facet could count a file
// the page did not show yet (seen once in the web app under load).

const LISTING = `query($query: String, $tagIds: [ID!], $tagMatch: TagMatch) {
  files(query: $query, tagIds: $tagIds, tagMatch: $tagMatch, first: 100) {
    totalCount
    edges { node { id name tags { name } } }
    tagCounts { count tag { name } } } }`;

interface Listing {
  totalCount: number;
  edges: { node: { id: string; name: string; tags: { name: string }[] } }[];
  tagCounts: { count: number; tag: { name: string } }[];
}

const UPLOADS = 40;

describe('a files connection reads one snapshot', () => {
  let t: TestServer;
  let admin: { token: string };

  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
    // Tags exist up front, so the tag filter below has an id to ask for.
    await uploadOk(t, 'seed', { token: admin.token, name: 'seed notes.txt', tags: ['Wave'] });
  });
  afterAll(() => t.close());

  it(
    'keeps edges, totalCount and tagCounts consistent while files are uploaded',
    { timeout: 180_000 },
    async () => {
      const wave = await t.server.connection.db
        .selectFrom('tags')
        .select('id')
        .where('name_key', '=', 'wave')
        .executeTakeFirstOrThrow();
      // Every shape with its own plan: counters (no filter), a tag filter, long and short queries.
      const shapes: Record<string, unknown>[] = [
        {},
        { tagIds: [String(wave.id)] },
        { tagIds: [String(wave.id)], tagMatch: 'ANY' },
        { query: 'notes' },
        { query: 'no' },
        { query: 'wave' },
      ];
      let uploading = true;
      const uploads = (async () => {
        try {
          for (let i = 0; i < UPLOADS; i++) {
            const tags = i % 2 ? ['Wave', `Batch ${i % 3}`] : [`Batch ${i % 3}`];
            await uploadOk(t, `file ${i}`, { token: admin.token, name: `notes ${i}.txt`, tags });
          }
        } finally {
          uploading = false;
        }
      })();
      const problems: string[] = [];
      let checked = 0;
      const reader = async () => {
        for (let i = 0; uploading || i < shapes.length; i++) {
          const variables = shapes[i % shapes.length]!;
          const data = await t.data<{ files: Listing }>(LISTING, variables, {
            token: admin.token,
          });
          const { totalCount, edges, tagCounts } = data.files;
          checked++;
          const fromEdges = new Map<string, number>();
          for (const e of edges) {
            for (const tag of e.node.tags)
              fromEdges.set(tag.name, (fromEdges.get(tag.name) ?? 0) + 1);
          }
          const fromFacets = new Map(tagCounts.map((c) => [c.tag.name, c.count]));
          const same =
            edges.length === totalCount &&
            fromEdges.size === fromFacets.size &&
            [...fromEdges].every(([name, n]) => fromFacets.get(name) === n);
          if (!same) {
            problems.push(
              `${JSON.stringify(variables)}: ${edges.length} edges, totalCount ${totalCount}, ` +
                `tags on edges ${JSON.stringify([...fromEdges])}, tagCounts ${JSON.stringify([...fromFacets])}`,
            );
          }
        }
      };
      await Promise.all([uploads, reader(), reader(), reader()]);
      expect(problems).toEqual([]);
      expect(checked).toBeGreaterThan(UPLOADS);
      // And the end state is whole.
      const last = await t.gql<{ files: Listing }>(LISTING, {}, { token: admin.token });
      expect(last.data!.files.totalCount).toBe(UPLOADS + 1);
    },
  );

  it('answers more concurrent searches than the database pool has connections', async () => {
    // A snapshot holds a pooled connection for its request (PostgreSQL's pool has 10); nothing
    // in the request may wait for a second one, or 10 requests at once would wait for ever.
    const shapes = [{ query: 'no' }, { query: 'notes 1' }, { tagIds: ['1'] }, {}];
    const answers = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        t.gql<{ files: Listing }>(LISTING, shapes[i % shapes.length], { token: admin.token }),
      ),
    );
    for (const res of answers) expect(res.data?.files.totalCount).toBeGreaterThan(0);
  });
});
