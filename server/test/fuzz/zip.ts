import type { Random } from './random.js';
import type { WireRequest } from './wire.js';
import { pickAuth, wireHeaders, type FileRouteTokens } from './file-routes.js';

// Mutated requests for GET/HEAD /files/zip?ids=…: a valid ZIP of a few fixture files with its
// id list, method, credentials and headers damaged one at a time, sometimes cut. Labelled like
// the other sections.

export interface ZipCase {
  labels: string[];
  request(tokens: FileRouteTokens): WireRequest;
  mustAnswer: boolean;
  /** At most this many downloads may be counted by it without a 200 telling (a cut GET). */
  unseenCount: number;
}

export function zipCase(rng: Random, ids: readonly string[]): ZipCase {
  const labels: string[] = [];
  const picked = Array.from({ length: rng.int(1, 5) }, () => rng.pick(ids));
  const kind = rng.weighted([
    [6, 'valid'],
    [1, 'empty'],
    [1, 'zero'],
    [1, 'huge'],
    [1, 'junk'],
    [1, 'too-many'],
    [1, 'repeated'],
    [1, 'encoded'],
    [1, 'long'],
    [1, 'unknown'],
  ] as const);
  labels.push(`ids:${kind}`);
  let query = `?ids=${picked.join(',')}`;
  if (kind === 'empty') query = rng.pick(['', '?ids=', '?ids=,,', '?other=1']);
  if (kind === 'zero') query = `?ids=${picked[0]},0`;
  if (kind === 'huge') query = `?ids=${picked[0]},99999999999999999999`;
  if (kind === 'junk') query = `?ids=${rng.pick(['%00', '1;2', '1%2C%2C', '%ff', '-1', '1e3'])}`;
  if (kind === 'too-many')
    query = `?ids=${Array.from({ length: 1001 }, (_, i) => i + 1).join(',')}`;
  if (kind === 'repeated')
    query = picked
      .map((id) => `ids=${id}`)
      .join('&')
      .replace(/^/, '?');
  if (kind === 'encoded') query = `?ids=${picked.join('%2C')}`;
  if (kind === 'long') query = `?ids=${'1'.repeat(rng.int(17, 6000))}`;
  if (kind === 'unknown') query = `?ids=${picked[0]},99999999`;
  const method = rng.weighted([
    [8, 'GET'],
    [2, 'HEAD'],
    [1, 'POST'],
    [1, 'DELETE'],
  ] as const);
  labels.push(method);
  const auth = pickAuth(rng, labels);
  const headers: [string, string | Buffer][] = [];
  if (rng.chance(0.2)) headers.push(['Range', 'bytes=0-9']);
  if (rng.chance(0.1)) headers.push(['Accept', 'text/html']);
  if (rng.chance(0.1)) headers.push(['Sec-Fetch-Dest', rng.pick(['document', 'empty'])]);
  const cut = rng.chance(0.1);
  if (cut) labels.push('cut');
  return {
    labels,
    mustAnswer: !cut,
    unseenCount: cut && method === 'GET' ? picked.length : 0,
    request(tokens) {
      const all = wireHeaders(rng, auth, tokens, headers);
      const body = method === 'POST' ? Buffer.from('x'.repeat(10)) : null;
      if (body) all.push(['Content-Length', String(body.length)]);
      return {
        method,
        path: `/files/zip${query}`,
        headers: all,
        body: body ?? Buffer.alloc(0),
        delivery: cut ? { kind: 'cut', at: 0, rst: rng.chance(0.5) } : { kind: 'whole' },
      };
    },
  };
}
