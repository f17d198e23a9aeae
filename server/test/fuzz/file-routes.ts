import type { Random } from './random.js';
import type { WireRequest } from './wire.js';

// Mutated requests for /files/:id/thumbnail, /files/:id/preview and /files/:id/download: a valid
// GET of a random fixture file with its path, query, method, validators, range and credentials
// damaged one at a time, sometimes cut. Labelled like the other sections.

export type FileRouteTokens = Record<'user' | 'admin' | 'readToken', string>;

export interface FileRouteCase {
  labels: string[];
  route: 'thumbnail' | 'preview' | 'download';
  method: string;
  request(tokens: FileRouteTokens): WireRequest;
  mustAnswer: boolean;
}

type Auth = 'user' | 'admin' | 'readToken' | 'anonymous' | 'garbage';

/** The credentials a case sends, labelled: mostly a user's, sometimes none or a broken one. */
export function pickAuth(rng: Random, labels: string[]): Auth {
  const auth = rng.weighted([
    [6, 'user'],
    [2, 'admin'],
    [1, 'readToken'],
    [1, 'anonymous'],
    [1, 'garbage'],
  ] as const);
  labels.push(`auth:${auth}`);
  return auth;
}

/** The headers of a case's request: a close after the answer, `headers`, and the credentials. */
export function wireHeaders(
  rng: Random,
  auth: Auth,
  tokens: FileRouteTokens,
  headers: [string, string | Buffer][],
): [string, string | Buffer][] {
  const all: [string, string | Buffer][] = [
    ['Host', '127.0.0.1'],
    ['Connection', 'close'],
    ...headers,
  ];
  if (auth === 'garbage') all.push(['Authorization', `Bearer ${rng.hex(20)}\u0001`]);
  else if (auth !== 'anonymous') all.push(['Authorization', `Bearer ${tokens[auth]}`]);
  return all;
}

const RANGES = [
  'bytes=0-9',
  'bytes=5-',
  'bytes=-3',
  'bytes=999999999-',
  'bytes=9-2',
  'bytes=0-1,4-5',
  'items=0-1',
  'bytes=',
  'bytes=-0',
  `bytes=0-${'9'.repeat(40)}`,
];

/**
 * A case for one of the routes. A cut GET of the download route may or may not be recorded (that
 * depends on when the server notices), so when `cutIds` is given those cases target its files
 * only, and every other file's download count stays exact.
 */
export function fileRouteCase(rng: Random, ids: string[], cutIds?: string[]): FileRouteCase {
  const labels: string[] = [];
  const route = rng.pick(['thumbnail', 'preview', 'download'] as const);
  labels.push(route);
  const cut = rng.chance(0.1);
  let id: string = rng.pick(cut && route === 'download' && cutIds ? cutIds : ids);
  const idKind = rng.weighted([
    [6, 'valid'],
    [1, 'zero'],
    [1, 'huge'],
    [1, 'negative'],
    [1, 'junk'],
    [1, 'encoded'],
    [1, 'long'],
  ] as const);
  labels.push(`id:${idKind}`);
  if (idKind === 'zero') id = '0';
  if (idKind === 'huge') id = '99999999999999999999';
  if (idKind === 'negative') id = '-1';
  if (idKind === 'junk') id = '%00..%2F';
  if (idKind === 'encoded') id = encodeURIComponent(`${id}/../1`);
  if (idKind === 'long') id = '1'.repeat(rng.int(17, 5000));
  let query = '';
  if (route === 'thumbnail') {
    const size = rng.weighted([
      [4, '256'],
      [4, '1024'],
      [1, ''],
      [1, '0'],
      [1, '257'],
      [1, 'x'.repeat(300)],
      [1, '256&size=1024'],
      [1, '%ff'],
    ] as const);
    labels.push(`size:${size.slice(0, 12)}`);
    query = rng.chance(0.1) ? '' : `?size=${size}`;
  }
  const method = rng.weighted([
    [8, 'GET'],
    [2, 'HEAD'],
    [1, 'POST'],
    [1, 'PUT'],
    [1, 'OPTIONS'],
  ] as const);
  labels.push(method);
  const auth = pickAuth(rng, labels);
  const headers: [string, string | Buffer][] = [];
  const range = rng.chance(0.3) ? rng.pick(RANGES) : null;
  if (range) {
    labels.push(`range:${range.slice(0, 16)}`);
    headers.push(['Range', range]);
    if (rng.chance(0.3)) headers.push(['If-Range', rng.pick(['"x"', '*', 'Thu, 01 Jan 1970'])]);
  }
  if (rng.chance(0.2)) {
    const etag = rng.pick(['*', '"nope"', 'W/"x", "y"', '"', rng.hex(64)]);
    labels.push('if-none-match');
    headers.push(['If-None-Match', etag]);
  }
  if (rng.chance(0.1)) headers.push(['Accept', 'text/html']);
  if (rng.chance(0.05)) headers.push(['Sec-Fetch-Dest', 'document']);
  return {
    labels,
    route,
    method,
    mustAnswer: !cut,
    request(tokens) {
      const all = wireHeaders(rng, auth, tokens, headers);
      const body = method === 'POST' || method === 'PUT' ? Buffer.from('x'.repeat(10)) : null;
      if (body) all.push(['Content-Length', String(body.length)]);
      return {
        method,
        path: `/files/${id}/${route}${query}`,
        headers: all,
        body: body ?? Buffer.alloc(0),
        delivery: cut ? { kind: 'cut', at: 0, rst: rng.chance(0.5) } : { kind: 'whole' },
      };
    },
  };
}
