import type { Random } from './random.js';
import type { WireRequest } from './wire.js';

// Mutated tus requests for /uploads (resumable uploads): a valid request of a random kind
// (creation, creation with upload, offset query, append, termination, options) with its headers
// damaged one at a time (protocol version, lengths and offsets, metadata, content type,
// credentials), then its framing (chunked, short bodies, cuts). Labelled like the multipart cases.

export type TusAuth = 'user' | 'anonymous' | 'garbage' | 'cookie-no-csrf' | 'cookie-csrf';

/** An upload made for the case: its id and length (so valid appends can be built). */
export interface FreshUpload {
  id: string;
  length: number;
}

export interface TusCase {
  labels: string[];
  request(tokens: Record<'user', string>): WireRequest;
  mustAnswer: boolean;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const ascii = (s: string) => Buffer.from(s, 'latin1');

const BAD_NUMBERS = ['-1', '1e3', '0x10', ' ', '', '1.5', '99999999999999999999', '١٢', '+5'];

function metadata(rng: Random, labels: string[]): string | Buffer {
  const kind = rng.weighted([
    [6, 'valid'],
    [1, 'no name'],
    [1, 'bad base64'],
    [1, 'control chars'],
    [1, 'bad utf8'],
    [1, 'duplicate key'],
    [1, 'huge'],
    [1, 'raw bytes'],
    [1, 'bad status'],
    [1, 'status'],
    [1, 'many tags'],
  ] as const);
  labels.push(`metadata:${kind}`);
  switch (kind) {
    case 'valid':
      return `filename ${b64(`f${rng.int(0, 99)}.txt`)},tags ${b64('a,b')}`;
    case 'no name':
      return `tags ${b64('x')}`;
    case 'bad base64':
      return `filename ***`;
    case 'control chars':
      return `filename ${b64('a\u0000b')}`;
    case 'bad utf8':
      return `filename ${b64(Buffer.from([0xc3, 0x28]))}`;
    case 'duplicate key':
      return `filename ${b64('a')},filename ${b64('b')}`;
    case 'huge':
      return `filename ${b64('x'.repeat(rng.int(200, 12_000)))}`;
    case 'raw bytes':
      return Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0x21, 0xff)));
    case 'bad status':
      return `filename ${b64('a')},status ${b64('DELETED')}`;
    case 'status':
      return `filename ${b64('a')},status ${b64('HIDDEN')}`;
    case 'many tags':
      return `filename ${b64('a')},tags ${b64(Array.from({ length: 80 }, (_, i) => `t${i}`).join(','))}`;
  }
}

export function tusCase(rng: Random, limit: number, fresh: FreshUpload): TusCase {
  const labels: string[] = [];
  const kind = rng.weighted([
    [3, 'create'],
    [2, 'create+upload'],
    [2, 'head'],
    [5, 'patch'],
    [1, 'delete'],
    [1, 'options'],
    [1, 'odd method'],
  ] as const);
  labels.push(`kind:${kind}`);
  const auth = rng.weighted<TusAuth>([
    [8, 'user'],
    [1, 'anonymous'],
    [1, 'garbage'],
    [1, 'cookie-no-csrf'],
    [1, 'cookie-csrf'],
  ]);
  labels.push(`auth:${auth}`);

  const target =
    kind === 'create' || kind === 'create+upload' || kind === 'options' ? '' : fresh.id;
  const idKind = target
    ? rng.weighted([
        [8, 'fresh'],
        [1, 'unknown'],
        [1, 'garbage'],
      ] as const)
    : 'none';
  const path =
    idKind === 'fresh'
      ? `/uploads/${fresh.id}`
      : idKind === 'unknown'
        ? `/uploads/${rng.hex(32)}`
        : idKind === 'garbage'
          ? rng.pick(['/uploads/..%2f..', '/uploads/%00', '/uploads/a/b', `/uploads/${rng.hex(5)}`])
          : '/uploads';
  if (idKind !== 'none' && idKind !== 'fresh') labels.push(`id:${idKind}`);

  const method =
    kind === 'create' || kind === 'create+upload'
      ? 'POST'
      : kind === 'head'
        ? 'HEAD'
        : kind === 'patch'
          ? 'PATCH'
          : kind === 'delete'
            ? 'DELETE'
            : kind === 'options'
              ? 'OPTIONS'
              : rng.pick(['GET', 'PUT', 'POST', 'TRACE']);

  const headers: WireRequest['headers'] = [
    ['Host', '127.0.0.1'],
    ['Connection', 'close'],
  ];
  const version = rng.weighted([
    [10, '1.0.0'],
    [1, '0.2.2'],
    [1, 'none'],
    [1, 'garbage'],
  ] as const);
  if (version !== '1.0.0') labels.push(`version:${version}`);
  if (version === '1.0.0' || version === '0.2.2') headers.push(['Tus-Resumable', version]);
  if (version === 'garbage') headers.push(['Tus-Resumable', Buffer.from([0xff, 0x41, 0x7f])]);

  let body = Buffer.alloc(0);
  if (kind === 'create' || kind === 'create+upload') {
    const lengthKind = rng.weighted([
      [8, 'valid'],
      [1, 'over limit'],
      [1, 'bad'],
      [1, 'missing'],
      [1, 'defer'],
    ] as const);
    const length = rng.int(0, limit);
    if (lengthKind !== 'valid') labels.push(`length:${lengthKind}`);
    if (lengthKind === 'valid') headers.push(['Upload-Length', String(length)]);
    if (lengthKind === 'over limit')
      headers.push(['Upload-Length', String(limit + rng.int(1, 1e9))]);
    if (lengthKind === 'bad') headers.push(['Upload-Length', rng.pick(BAD_NUMBERS)]);
    if (lengthKind === 'defer') headers.push(['Upload-Defer-Length', '1']);
    if (rng.chance(0.9)) headers.push(['Upload-Metadata', metadata(rng, labels)]);
    if (kind === 'create+upload') {
      headers.push(['Content-Type', 'application/offset+octet-stream']);
      body = Buffer.from(
        rng.bytes(rng.chance(0.2) ? length + rng.int(1, 100) : rng.int(0, length)),
      );
    }
  }
  if (kind === 'patch') {
    const offsetKind = rng.weighted([
      [6, 'zero'],
      [1, 'wrong'],
      [1, 'bad'],
      [1, 'missing'],
    ] as const);
    if (offsetKind !== 'zero') labels.push(`offset:${offsetKind}`);
    if (offsetKind === 'zero') headers.push(['Upload-Offset', '0']);
    if (offsetKind === 'wrong') headers.push(['Upload-Offset', String(rng.int(1, limit * 2))]);
    if (offsetKind === 'bad') headers.push(['Upload-Offset', rng.pick(BAD_NUMBERS)]);
    const type = rng.weighted([
      [8, 'application/offset+octet-stream'],
      [1, 'text/plain'],
      [1, 'none'],
    ] as const);
    if (type !== 'application/offset+octet-stream') labels.push(`type:${type}`);
    if (type !== 'none') headers.push(['Content-Type', type]);
    const size = rng.weighted([
      [4, fresh.length],
      [3, rng.int(0, fresh.length)],
      [1, fresh.length + rng.int(1, 1000)],
    ]);
    if (size > fresh.length) labels.push('body:past length');
    body = Buffer.from(rng.bytes(size));
  }

  if (auth === 'cookie-no-csrf' || auth === 'cookie-csrf') {
    // The cookie's value is filled in by request(); the CSRF header decides.
    if (auth === 'cookie-csrf') headers.push(['X-Requested-With', 'fuzz']);
  }

  const framing = body.length
    ? rng.weighted([
        [6, 'exact'],
        [2, 'chunked'],
        [1, 'cut'],
        [1, 'half-close'],
      ] as const)
    : 'exact';
  if (framing !== 'exact') labels.push(`framing:${framing}`);
  let wireBody = body;
  if (framing === 'chunked') {
    headers.push(['Transfer-Encoding', 'chunked']);
    const pieces: Buffer[] = [];
    for (let at = 0; at < body.length;) {
      const size = Math.min(body.length - at, rng.int(1, 8192));
      pieces.push(ascii(`${size.toString(16)}\r\n`), body.subarray(at, at + size), ascii('\r\n'));
      at += size;
    }
    pieces.push(ascii('0\r\n\r\n'));
    wireBody = Buffer.concat(pieces);
  } else if (method !== 'HEAD' && method !== 'GET' && method !== 'OPTIONS' && method !== 'TRACE') {
    headers.push(['Content-Length', String(body.length)]);
  }
  const at = rng.int(0, Math.max(0, wireBody.length - 1));
  const delivery: WireRequest['delivery'] =
    framing === 'cut'
      ? { kind: 'cut', at, rst: rng.chance(0.5) }
      : framing === 'half-close'
        ? { kind: 'half-close', at }
        : { kind: 'whole' };

  return {
    labels,
    mustAnswer: delivery.kind === 'whole',
    request(tokens) {
      const all: WireRequest['headers'] = [...headers];
      if (auth === 'user') all.push(['Authorization', `Bearer ${tokens.user}`]);
      if (auth === 'garbage') all.push(['Authorization', `Bearer ${rng.hex(40)}`]);
      if (auth === 'cookie-no-csrf' || auth === 'cookie-csrf') {
        all.push(['Cookie', `cabinet_session=${tokens.user}`]);
      }
      return {
        method,
        path,
        headers: all,
        body: wireBody,
        splits: [rng.int(0, wireBody.length)],
        delivery,
      };
    },
  };
}
