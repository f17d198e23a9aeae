import type { Random } from './random.js';
import type { WireRequest } from './wire.js';

// Mutated requests for the share link routes, `GET/HEAD /s/:token/files/:id/download`,
// `/s/:token/files/:id/thumbnail?size=`, `/s/:token/files/:id/preview` and `GET /s/:token/zip`:
// the token (a working one, one without a download limit, a password one, unknown, malformed, huge,
// encoded), the file id, the password proof (`key=` and the link cookie: valid, tampered,
// expired, garbage), the conditional and Range headers, and the method. Labelled like the other
// sections so a failure names what was odd about its request.

/**
 * Links made for the run: an open one, one without a download limit (the only kind that serves
 * previews), one with a password and its proof.
 */
export interface ShareFixture {
  open: string;
  unlimited: string;
  locked: string;
  proof: string;
  fileIds: string[];
  /** A picture of the open link: thumbnail cases ask for it most. */
  imageId: string;
  sha256: string;
}

export interface ShareCase {
  labels: string[];
  request(): WireRequest;
  mustAnswer: boolean;
}

export function shareCase(rng: Random, fx: ShareFixture): ShareCase {
  const labels: string[] = [];
  const tokenKind = rng.weighted([
    [6, 'open'],
    [3, 'unlimited'],
    [3, 'locked'],
    [1, 'unknown'],
    [1, 'malformed'],
    [1, 'huge'],
    [1, 'encoded'],
  ] as const);
  labels.push(`token:${tokenKind}`);
  const token =
    tokenKind === 'open'
      ? fx.open
      : tokenKind === 'unlimited'
        ? fx.unlimited
        : tokenKind === 'locked'
          ? fx.locked
          : tokenKind === 'unknown'
            ? rng.hex(32)
            : tokenKind === 'malformed'
              ? rng.pick(['..', '%00', '%2e%2e%2f', 'a;b', '%E2%80%AE', '"><', '%ff%fe'])
              : tokenKind === 'huge'
                ? 'A'.repeat(rng.int(65, 20_000))
                : encodeURIComponent(fx.open).replace(/A/g, '%41');

  const target = rng.weighted([
    [6, 'file'],
    [3, 'thumbnail'],
    [3, 'preview'],
    [3, 'zip'],
    [1, 'odd path'],
  ] as const);
  labels.push(`target:${target}`);
  // The thumbnail's size: absent, allowed, or not.
  const query: string[] = [];
  if (target === 'thumbnail') {
    const size = rng.pick([
      null,
      '256',
      '1024',
      '0',
      '-256',
      '256.0',
      'abc',
      '9'.repeat(400),
      '%00',
      '256&size=1024',
    ]);
    if (size !== null) {
      labels.push(`size:${size.slice(0, 12)}`);
      query.push(`size=${size}`);
    }
  }
  let path =
    target === 'zip'
      ? `/s/${token}/zip`
      : target === 'odd path'
        ? rng.pick([`/s/${token}/files//download`, `/s/${token}/zip/`, `/s/${token}/files/1`])
        : `/s/${token}/files/${rng.weighted([
            [target === 'thumbnail' ? 6 : 0, fx.imageId],
            [6, rng.pick(fx.fileIds)],
            [1, String(rng.int(0, 1e6))],
            [1, rng.pick(['-1', '1e3', '0x1', '99999999999999999999', 'abc', '%20', '١'])],
          ])}/${target === 'file' ? 'download' : target}`;

  const headers: WireRequest['headers'] = [
    ['Host', '127.0.0.1'],
    ['Connection', 'close'],
  ];
  const proofKind = rng.weighted([
    [4, 'none'],
    [3, 'key'],
    [2, 'cookie'],
    [1, 'tampered'],
    [1, 'expired'],
    [1, 'garbage'],
  ] as const);
  if (proofKind !== 'none') labels.push(`proof:${proofKind}`);
  const proof =
    proofKind === 'key' || proofKind === 'cookie'
      ? fx.proof
      : proofKind === 'tampered'
        ? fx.proof.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))
        : proofKind === 'expired'
          ? `1000000000000.${fx.proof.split('.')[1]}`
          : rng.pick([
              '',
              '.',
              'x'.repeat(5000),
              '1.2.3',
              '%00',
              Buffer.from([0xff, 0x0a]).toString('latin1'),
            ]);
  if (proofKind === 'cookie') headers.push(['Cookie', `cabinet_share=${proof}`]);
  else if (proofKind !== 'none')
    query.push(`key=${rng.chance(0.8) ? encodeURIComponent(proof) : proof}`);
  if (query.length) path += `?${query.join('&')}`;

  const extras = rng.sample(
    ['range', 'if-none-match', 'if-range', 'sec-fetch'] as const,
    rng.int(0, 3),
  );
  for (const extra of extras) {
    labels.push(`header:${extra}`);
    if (extra === 'range') {
      headers.push([
        'Range',
        rng.pick([
          'bytes=0-3',
          'bytes=2-',
          'bytes=-1',
          'bytes=9-1',
          'bytes=0-1,3-4',
          'bytes=99999-',
          'items=1-2',
          'bytes=\xff',
        ]),
      ]);
    }
    if (extra === 'if-none-match')
      headers.push(['If-None-Match', rng.pick([`"${fx.sha256}"`, '*', 'W/"x"', '"', ''])]);
    if (extra === 'if-range')
      headers.push([
        'If-Range',
        rng.pick([`"${fx.sha256}"`, 'Tue, 01 Jan 2030 00:00:00 GMT', '"nope"']),
      ]);
    if (extra === 'sec-fetch') headers.push(['Sec-Fetch-Dest', 'document']);
  }

  const method = rng.weighted([
    [8, 'GET'],
    [2, 'HEAD'],
    [1, rng.pick(['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])],
  ]);
  if (method !== 'GET') labels.push(`method:${method}`);
  const body =
    method === 'POST' || method === 'PUT'
      ? Buffer.from(rng.bytes(rng.int(0, 64)))
      : Buffer.alloc(0);
  if (body.length || method === 'POST' || method === 'PUT')
    headers.push(['Content-Length', String(body.length)]);

  return {
    labels,
    mustAnswer: true,
    request: () => ({ method, path, headers, body, delivery: { kind: 'whole' } }),
  };
}
