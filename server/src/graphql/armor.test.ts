import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, startTestServer, type TestServer } from '../../test/harness.js';
import { ARMOR_LIMITS } from './yoga.js';

// The document limits of yoga.ts, through the front door: each limit refuses one step past it
// with a message naming the limit, and lets the step at the limit through.

/** A valid query `depth` levels deep: a tags page padded with inline fragments on Tag. */
function deepQuery(depth: number): string {
  let body = 'id';
  for (let i = 0; i < depth - 4; i++) body = `... on Tag { ${body} }`;
  return `{ tags(first: 1) { edges { node { ${body} } } } }`;
}

describe('GraphQL document limits', () => {
  let t: TestServer;
  let admin: { token: string; id: string };
  beforeAll(async () => {
    t = await startTestServer();
    admin = await t.signUp('admin@example.com');
  });
  afterAll(() => t.close());

  const ask = (query: string, variables: Record<string, unknown> = {}) =>
    t.gql(query, variables, { token: admin.token });

  it(`limits depth to ${ARMOR_LIMITS.maxDepth}`, async () => {
    expect((await ask(deepQuery(ARMOR_LIMITS.maxDepth))).errors).toBeUndefined();
    const res = await ask(deepQuery(ARMOR_LIMITS.maxDepth + 1));
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/depth limit of 10 exceeded/i);
    expect(res.data ?? null).toBeNull();
  });

  it(`limits aliases to ${ARMOR_LIMITS.maxAliases}`, async () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    expect((await ask(aliases(ARMOR_LIMITS.maxAliases))).errors).toBeUndefined();
    const res = await ask(aliases(ARMOR_LIMITS.maxAliases + 1));
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/aliases limit of 15 exceeded/i);
  });

  it(`limits documents to ${ARMOR_LIMITS.maxTokens} tokens`, async () => {
    // A list argument of n - 16 enum values: every other token is frame (commas are not tokens).
    const tokens = (n: number) =>
      `mutation { createApiToken(name: "t", scopes: [${'READ '.repeat(n - 16)}]) { token } }`;
    expect((await ask(tokens(ARMOR_LIMITS.maxTokens))).errors).toBeUndefined();
    const res = await ask(tokens(ARMOR_LIMITS.maxTokens + 1));
    expect(errorCode(res)).toBe('GRAPHQL_PARSE_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/token limit of 2000 exceeded/i);
  });

  it(`limits directives to ${ARMOR_LIMITS.maxDirectives}`, async () => {
    const directives = (n: number) => `{ me { ${'... @include(if: true) { id } '.repeat(n)}} }`;
    expect((await ask(directives(ARMOR_LIMITS.maxDirectives))).errors).toBeUndefined();
    const res = await ask(directives(ARMOR_LIMITS.maxDirectives + 1));
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/directives limit of 50 exceeded/i);
  });

  it('limits cost, counting literal page sizes', async () => {
    const page = (first: number, inner: string) =>
      `tags(first: ${first}) { totalCount edges { cursor node { ${inner} } } }`;
    const fields = 'id name fileCount downloadCount createdAt';
    // One full page of 100 tags with every field is fine…
    expect((await ask(`{ ${page(100, fields)} }`)).errors).toBeUndefined();
    // …fifteen of them side by side are not.
    const many = Array.from({ length: 15 }, (_, i) => `p${i}: ${page(100, fields)}`).join(' ');
    const res = await ask(`{ ${many} }`);
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/cost limit of 20000 exceeded/i);
  });

  it('caps page sizes at 100 whatever the document says', async () => {
    const res = await ask(`query($n: Int) { tags(first: $n) { totalCount } }`, { n: 101 });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.fields).toEqual({ first: 'must be between 0 and 100' });
    expect(errorCode(await ask(`{ tags(first: -1) { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect((await ask(`{ tags(first: 100) { totalCount } }`)).errors).toBeUndefined();
  });

  it('keeps introspection on, exempt from depth and cost, for anyone', async () => {
    const full = await t.gql<{ __schema: { types: { name: string }[] } }>(getIntrospectionQuery());
    expect(full.errors).toBeUndefined();
    const names = full.data!.__schema.types.map((type) => type.name);
    expect(names).toEqual(expect.arrayContaining(['File', 'Tag', 'DownloadStats', 'ApiScope']));
  });
});
