import type { Random } from './random.js';
import type { WireRequest } from './wire.js';

// Mutated GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec).
// Each case starts from a valid `uploadFile` request, kept as a small model (parts with raw header
// lines) so mutations can break one layer at a time, then bytes-level damage is applied on top:
// truncation, boundaries inside data, wrong framing. Mutations are labelled so a failing case
// says what it was made of.

export const UPLOAD_DOC =
  'mutation($file: Upload!, $name: String, $tags: [String!], $status: FileStatus) { uploadFile(file: $file, name: $name, tags: $tags, status: $status) { id name size } }';

export type Auth = 'user' | 'admin' | 'anonymous' | 'garbage' | 'cookie-no-csrf';

interface Part {
  role: 'operations' | 'map' | 'file' | 'extra';
  headerLines: Buffer[];
  body: Buffer;
}

export interface MultipartCase {
  labels: string[];
  auth: Auth;
  /** Builds the wire request once the caller knows the tokens. */
  request(tokens: Record<'user' | 'admin', string>): WireRequest;
  /** The request is complete on the wire, so an answer is owed. */
  mustAnswer: boolean;
  /** Nothing but valid variations was applied: the upload must succeed. */
  mustSucceed: boolean;
}

// Variations that keep a request valid (RFC 7578 / 2046 and the spec): a case made only of these
// is a control, so a parser that refuses everything cannot pass the fuzz by refusing.
const VALID_VARIATIONS =
  /^(content:(text|random bytes|empty file|png)|name:plain|auth:admin|length:chunked|ct:(quoted boundary|upper case|charset first)|boundary:70 chars)$/;

const CONTROL_BYTES = [0x00, 0x7f, 0x1b, 0x01, 0x08, 0x09, 0x0d, 0x0a, 0x1f, 0x85];
const BAD_UTF8 = [
  [0xff, 0xfe],
  [0xc3, 0x28],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];
const WEIRD_NAMES = [
  '',
  '.',
  '..',
  '../../etc/passwd',
  'C:\\Windows\\win.ini',
  '   ',
  'a\\"b.txt',
  'ünïcødé 文件.txt',
  '%00.txt',
  '<script>.html',
  'a;b=c.txt',
];

const ascii = (s: string) => Buffer.from(s, 'latin1');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

function insertAt(buf: Buffer, at: number, piece: Buffer): Buffer {
  return Buffer.concat([buf.subarray(0, at), piece, buf.subarray(at)]);
}

function fileContent(rng: Random, limit: number): { bytes: Buffer; label: string } {
  return rng.weighted<() => { bytes: Buffer; label: string }>([
    [4, () => ({ bytes: utf8(`hello ${rng.hex(8)}\n`), label: 'text' })],
    [2, () => ({ bytes: rng.bytes(rng.int(0, 4096)), label: 'random bytes' })],
    [1, () => ({ bytes: Buffer.alloc(0), label: 'empty file' })],
    [
      1,
      () => ({
        bytes: Buffer.from(
          'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
          'base64',
        ),
        label: 'png',
      }),
    ],
    [1, () => ({ bytes: rng.bytes(limit + rng.int(1, 4096)), label: 'over MAX_UPLOAD_BYTES' })],
  ])();
}

/** A fuzzed value for the `name` or a tag of the upload's variables. */
function fuzzString(rng: Random): { value: string; label: string } {
  return rng.weighted<() => { value: string; label: string }>([
    [3, () => ({ value: `n${rng.hex(4)}.txt`, label: 'plain' })],
    [1, () => ({ value: `a\u0000b`, label: 'NUL' })],
    [1, () => ({ value: `a\r\nb`, label: 'CRLF' })],
    [1, () => ({ value: '\u001b[31mred', label: 'ESC' })],
    [1, () => ({ value: '', label: 'empty' })],
    [1, () => ({ value: 'x'.repeat(rng.pick([41, 256, 5000])), label: 'long' })],
    [1, () => ({ value: '\ud800', label: 'lone surrogate' })],
    [1, () => ({ value: "%_' OR 1=1 --", label: 'sql-ish' })],
  ])();
}

/** The `operations` field: valid upload operations, or something else in their place. */
function operationsField(rng: Random, labels: string[]): Buffer {
  const variables: Record<string, unknown> = { file: null };
  if (rng.chance(0.3)) {
    const name = fuzzString(rng);
    variables.name = name.value;
    labels.push(`name:${name.label}`);
  }
  if (rng.chance(0.25)) {
    const count = rng.pick([0, 1, 3, 200]);
    variables.tags = Array.from({ length: count }, () => fuzzString(rng).value);
    labels.push(`tags:${count}`);
  }
  if (rng.chance(0.1)) {
    variables.status = rng.pick(['HIDDEN', 'ACTIVE', 'NOPE', 5]);
    labels.push(`status:${String(variables.status)}`);
  }
  const ops = { query: UPLOAD_DOC, variables };
  if (!rng.chance(0.25)) return utf8(JSON.stringify(ops));
  const [label, value] = rng.pick<[string, () => string]>([
    ['ops:invalid JSON', () => JSON.stringify(ops).slice(0, -3)],
    ['ops:null', () => 'null'],
    ['ops:string', () => '"mutation"'],
    ['ops:empty', () => ''],
    ['ops:batched', () => JSON.stringify([ops, ops])],
    ['ops:no query', () => JSON.stringify({ variables })],
    ['ops:query without upload', () => JSON.stringify({ query: '{ me { id } }', variables })],
    [
      'ops:unused Upload variable',
      () => JSON.stringify({ query: 'mutation($file: Upload!) { logout }', variables }),
    ],
    [
      'ops:Upload in a String variable',
      () =>
        JSON.stringify({
          query:
            'mutation($file: Upload!, $name: String) { uploadFile(file: $file, name: $name) { id } }',
          variables: { file: 'not a file', name: null },
        }),
    ],
    ['ops:variables array', () => JSON.stringify({ query: UPLOAD_DOC, variables: [] })],
    [
      'ops:parse error',
      () => JSON.stringify({ query: 'mutation($file: Upload!) { uploadFile(', variables }),
    ],
    ['ops:oversized', () => JSON.stringify({ ...ops, pad: 'p'.repeat(300 * 1024) })],
    ['ops:invalid UTF-8', () => JSON.stringify(ops).replace('uploadFile', 'upload\u00ffFile')],
  ]);
  labels.push(label);
  return label === 'ops:invalid UTF-8' ? ascii(value()) : utf8(value());
}

function mapField(rng: Random, labels: string[]): { body: Buffer; fileKeys: string[] } {
  if (!rng.chance(0.25)) return { body: utf8('{"0":["variables.file"]}'), fileKeys: ['0'] };
  const [label, body, fileKeys] = rng.pick<[string, string, string[]]>([
    ['map:same file at two paths', '{"0":["variables.file","variables.file"]}', ['0']],
    ['map:file also into name', '{"0":["variables.file","variables.name"]}', ['0']],
    ['map:two files', '{"0":["variables.file"],"1":["variables.file"]}', ['0', '1']],
    ['map:nonexistent path', '{"0":["variables.nope.deep"]}', ['0']],
    ['map:path into a string', '{"0":["query.x"]}', ['0']],
    ['map:empty path', '{"0":[""]}', ['0']],
    ['map:__proto__ path', '{"0":["__proto__.polluted"]}', ['0']],
    ['map:constructor path', '{"0":["constructor.prototype.polluted"]}', ['0']],
    ['map:batched path', '{"0":["0.variables.file"]}', ['0']],
    ['map:empty', '{}', ['0']],
    ['map:array', '[["variables.file"]]', ['0']],
    ['map:null', 'null', ['0']],
    ['map:invalid JSON', '{"0":["variables.file"]', ['0']],
    ['map:entry not array', '{"0":"variables.file"}', ['0']],
    ['map:entry holds a number', '{"0":[5]}', ['0']],
    ['map:missing file part', '{"0":["variables.file"],"7":["variables.name"]}', ['0']],
    [
      'map:many entries',
      JSON.stringify(
        Object.fromEntries(Array.from({ length: 500 }, (_, i) => [i, ['variables.file']])),
      ),
      ['0'],
    ],
    [
      'map:oversized',
      JSON.stringify({ 0: ['variables.file'], pad: ['x'.repeat(300 * 1024)] }),
      ['0'],
    ],
  ]);
  labels.push(label);
  return { body: utf8(body), fileKeys };
}

function filename(rng: Random, labels: string[]): Buffer {
  const base = `f${rng.hex(6)}.txt`;
  if (!rng.chance(0.4)) return ascii(`filename="${base}"`);
  const kind = rng.pick([
    'control',
    'control',
    'bad utf8',
    'rfc2231',
    'long',
    'weird',
    'both forms',
    'unquoted',
    'none',
  ]);
  labels.push(`filename:${kind}`);
  switch (kind) {
    case 'control': {
      const byte = rng.pick(CONTROL_BYTES);
      labels.push(`byte:0x${byte.toString(16)}`);
      const name = ascii(base);
      return Buffer.concat([
        ascii('filename="'),
        insertAt(name, rng.int(0, name.length), Buffer.from([byte])),
        ascii('"'),
      ]);
    }
    case 'bad utf8':
      return Buffer.concat([ascii('filename="a'), Buffer.from(rng.pick(BAD_UTF8)), ascii('.txt"')]);
    case 'rfc2231':
      return ascii(
        rng.pick([
          "filename*=UTF-8''%E2%82%AC%20rates.txt",
          "filename*=UTF-8''a%00b.txt",
          "filename*=UTF-8''%1B%5B31m.txt",
          "filename*=UTF-8''%FF%FE.txt",
          "filename*=iso-8859-1''%E9t%E9.txt",
          "filename*=UTF-8''",
          'filename*=garbage',
          "filename*=UTF-8'en'%0D%0Ainjected.txt",
        ]),
      );
    case 'long':
      return utf8(
        `filename="${rng.pick(['a', 'é', '文']).repeat(rng.pick([255, 256, 1000, 20_000]))}.txt"`,
      );
    case 'weird':
      return utf8(`filename="${rng.pick(WEIRD_NAMES)}"`);
    case 'both forms':
      return ascii(`filename="plain.txt"; filename*=UTF-8''%E2%9C%93%00.txt`);
    case 'unquoted':
      return ascii(`filename=${base}`);
    default:
      return Buffer.alloc(0);
  }
}

function partHeaderMutation(rng: Random, part: Part, labels: string[]): void {
  const kind = rng.pick([
    'malformed line',
    'no content-disposition',
    'no name',
    'attachment',
    'huge header',
    'many headers',
    'control bytes in header',
    'unterminated quote',
    'duplicate disposition',
    'empty header name',
  ]);
  labels.push(`part-header:${kind}(${part.role})`);
  switch (kind) {
    case 'malformed line':
      part.headerLines.splice(rng.int(0, part.headerLines.length), 0, ascii('bad header'));
      break;
    case 'no content-disposition':
      part.headerLines = part.headerLines.filter(
        (l) => !/^content-disposition/i.test(l.toString('latin1')),
      );
      break;
    case 'no name':
      part.headerLines[0] = ascii('Content-Disposition: form-data; filename="x.txt"');
      break;
    case 'attachment':
      part.headerLines[0] = ascii(
        part.headerLines[0]!.toString('latin1').replace('form-data', 'attachment'),
      );
      break;
    case 'huge header':
      part.headerLines.push(
        ascii(`X-Pad: ${'a'.repeat(rng.pick([8 * 1024, 100 * 1024, 300 * 1024]))}`),
      );
      break;
    case 'many headers':
      for (let i = 0; i < 3000; i++) part.headerLines.push(ascii(`X-H${i}: v`));
      break;
    case 'control bytes in header':
      part.headerLines.push(
        Buffer.concat([ascii('X-Ctl: a'), Buffer.from([0, 0x1b, 0x7f]), ascii('b')]),
      );
      break;
    case 'unterminated quote':
      part.headerLines[0] = ascii(part.headerLines[0]!.toString('latin1').replace(/"$/, ''));
      break;
    case 'duplicate disposition':
      part.headerLines.push(ascii('Content-Disposition: form-data; name="operations"'));
      break;
    case 'empty header name':
      part.headerLines.push(ascii(': value'));
      break;
  }
}

/** `multipart/form-data; boundary=…` and its variations; returns what the server will split on. */
function contentType(rng: Random, boundary: string, labels: string[]): Buffer {
  if (!rng.chance(0.15)) return ascii(`multipart/form-data; boundary=${boundary}`);
  const [label, value] = rng.pick<[string, string]>([
    ['ct:no boundary', 'multipart/form-data'],
    ['ct:empty params', 'multipart/form-data;'],
    ['ct:empty boundary', 'multipart/form-data; boundary='],
    ['ct:quoted boundary', `multipart/form-data; boundary="${boundary}"`],
    ['ct:wrong boundary', `multipart/form-data; boundary=${boundary}X`],
    ['ct:garbage boundary', 'multipart/form-data; boundary="\u0001 \u007f"'],
    ['ct:upper case', `MULTIPART/FORM-DATA; BOUNDARY=${boundary}`],
    ['ct:two boundaries', `multipart/form-data; boundary=Z${boundary}; boundary=${boundary}`],
    ['ct:charset first', `multipart/form-data; charset=utf-8; boundary=${boundary}`],
    ['ct:mixed', `multipart/mixed; boundary=${boundary}`],
    ['ct:json', 'application/json'],
    ['ct:unterminated quote', `multipart/form-data; boundary="${boundary}`],
  ]);
  labels.push(label);
  return ascii(value);
}

/** Where the first part that may be a file stops being a whole file (first boundary after it). */
function safeCutLimit(body: Buffer, boundary: string, fileBodyStarts: number[]): number {
  let limit = body.length;
  for (const start of fileBodyStarts) {
    const next = body.indexOf(ascii(`--${boundary}`), start);
    limit = Math.min(limit, next < 0 ? body.length : next);
  }
  return limit;
}

export function multipartCase(rng: Random, limit: number): MultipartCase {
  const labels: string[] = [];
  // Boundaries as browsers, undici and curl make them, plus edge lengths (RFC 2046: 1–70).
  let boundary = rng.pick([
    `----formdata-undici-0${rng.hex(11)}`,
    `----WebKitFormBoundary${rng.hex(16)}`,
    'XB',
    `${'-'.repeat(24)}${rng.hex(16)}`,
  ]);
  if (rng.chance(0.05)) {
    boundary = 'b'.repeat(rng.pick([70, 71, 200, 5000]));
    labels.push(`boundary:${boundary.length} chars`);
  }
  const mapped = mapField(rng, labels);
  const content = fileContent(rng, limit);
  labels.push(`content:${content.label}`);
  let fileBody = content.bytes;
  if (rng.chance(0.08)) {
    const piece = rng.pick([
      `\r\n--${boundary}\r\n`,
      `\r\n--${boundary}--\r\n`,
      `--${boundary}`,
      `\r\n--${boundary}\r\nbad\r\n\r\n`,
    ]);
    fileBody = insertAt(fileBody, rng.int(0, fileBody.length), ascii(piece));
    labels.push(`boundary inside file data:${JSON.stringify(piece.replace(boundary, 'B'))}`);
  }
  const parts: Part[] = [
    {
      role: 'operations',
      headerLines: [ascii('Content-Disposition: form-data; name="operations"')],
      body: operationsField(rng, labels),
    },
    {
      role: 'map',
      headerLines: [ascii('Content-Disposition: form-data; name="map"')],
      body: mapped.body,
    },
    {
      role: 'file',
      headerLines: [
        Buffer.concat([ascii('Content-Disposition: form-data; name="0"; '), filename(rng, labels)]),
        ascii(
          `Content-Type: ${rng.pick(['text/plain', 'application/octet-stream', 'image/png', 'text/html; charset="x"'])}`,
        ),
      ],
      body: fileBody,
    },
  ];
  if (mapped.fileKeys.includes('1') || rng.chance(0.05)) {
    parts.push({
      role: 'extra',
      headerLines: [ascii('Content-Disposition: form-data; name="1"; filename="second.txt"')],
      body: utf8('second'),
    });
    if (!mapped.fileKeys.includes('1')) labels.push('extra file');
  }
  if (rng.chance(0.05)) {
    parts.push({
      role: 'extra',
      headerLines: [ascii('Content-Disposition: form-data; name="junk"')],
      body: utf8('x'),
    });
    labels.push('extra field');
  }
  if (rng.chance(0.08)) {
    const [label, order] = rng.pick<[string, number[]]>([
      ['order:map before operations', [1, 0, 2]],
      ['order:file first', [2, 0, 1]],
      ['order:file between', [0, 2, 1]],
    ]);
    const reordered = order.map((i) => parts[i]!);
    parts.splice(0, 3, ...reordered);
    labels.push(label);
  }
  if (rng.chance(0.05)) {
    parts.splice(
      parts.findIndex((p) => p.role === 'file'),
      1,
    );
    labels.push('no file part');
  }
  if (rng.chance(0.03)) {
    parts.splice(
      parts.findIndex((p) => p.role === 'operations'),
      1,
    );
    labels.push('no operations part');
  }
  if (rng.chance(0.15)) partHeaderMutation(rng, rng.pick(parts), labels);

  // Framing of the body.
  const crlf = rng.chance(0.03) ? '\n' : '\r\n';
  if (crlf === '\n') labels.push('LF line breaks');
  const closing = rng.weighted<string>([
    [20, 'final'],
    [2, 'none'],
    [1, 'wrong'],
    [1, 'no trailing CRLF'],
  ]);
  if (closing !== 'final') labels.push(`closing:${closing}`);
  const chunks: Buffer[] = [];
  if (rng.chance(0.03)) {
    chunks.push(ascii(`preamble ${rng.hex(8)}\r\n`));
    labels.push('preamble');
  }
  const fileBodyStarts: number[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    chunks.push(b);
    offset += b.length;
  };
  offset = chunks.reduce((s, b) => s + b.length, 0);
  parts.forEach((part, i) => {
    push(ascii(`${i === 0 ? '' : crlf}--${boundary}${crlf}`));
    push(Buffer.concat(part.headerLines.flatMap((l) => [l, ascii(crlf)])));
    push(ascii(crlf));
    if (part.role === 'file' || part.role === 'extra') fileBodyStarts.push(offset);
    push(part.body);
  });
  if (closing === 'final') push(ascii(`${crlf}--${boundary}--${crlf}`));
  else if (closing === 'wrong') push(ascii(`${crlf}--${boundary}X--${crlf}`));
  else if (closing === 'no trailing CRLF') push(ascii(`${crlf}--${boundary}--`));
  else push(ascii(crlf));
  if (rng.chance(0.03)) {
    push(ascii(`epilogue ${rng.hex(8)}`));
    labels.push('epilogue');
  }
  const body = Buffer.concat(chunks);
  const ct = contentType(rng, boundary, labels);

  const auth = rng.weighted<Auth>([
    [14, 'user'],
    [2, 'admin'],
    [2, 'anonymous'],
    [1, 'garbage'],
    [1, 'cookie-no-csrf'],
  ]);
  if (auth !== 'user') labels.push(`auth:${auth}`);

  const length = rng.weighted<string>([
    [40, 'exact'],
    [3, 'chunked'],
    [2, 'smaller'],
    [2, 'larger'],
    [1, 'garbage'],
    [1, 'missing'],
    [1, 'conflicting'],
  ]);
  if (length !== 'exact') labels.push(`length:${length}`);
  const delivery = rng.weighted<string>([
    [40, 'whole'],
    [4, 'half-close'],
    [3, 'cut-fin'],
    [3, 'cut-rst'],
  ]);
  if (delivery !== 'whole') labels.push(`delivery:${delivery}`);
  // A cut must fall before any file part could be read whole: a file that arrived complete may
  // be stored even if the client then walks away, and that would not be a leak.
  const cutLimit = safeCutLimit(body, boundary, fileBodyStarts);
  const cutAt = rng.int(0, Math.max(0, cutLimit - 1));
  const smallerBy = rng.int(1, Math.max(1, body.length));
  const splits = Array.from({ length: rng.int(0, 3) }, () =>
    rng.int(1, Math.max(1, body.length - 1)),
  );

  let mustAnswer = delivery === 'whole';
  // A declared length beyond what is sent leaves the request incomplete when we half-close.
  if (length === 'larger') mustAnswer = false;

  const mustSucceed = labels.every((l) => VALID_VARIATIONS.test(l));

  return {
    labels,
    auth,
    mustAnswer,
    mustSucceed,
    request(tokens) {
      const headers: WireRequest['headers'] = [
        ['Host', '127.0.0.1'],
        ['Connection', 'close'],
        ['Content-Type', ct],
      ];
      if (auth === 'user' || auth === 'admin')
        headers.push(['Authorization', `Bearer ${tokens[auth]}`]);
      if (auth === 'garbage') headers.push(['Authorization', `Bearer ${rng.hex(40)}`]);
      if (auth === 'cookie-no-csrf') headers.push(['Cookie', `cabinet_session=${tokens.user}`]);
      let wireBody = body;
      switch (length) {
        case 'exact':
          headers.push(['Content-Length', String(body.length)]);
          break;
        case 'chunked': {
          headers.push(['Transfer-Encoding', 'chunked']);
          const pieces: Buffer[] = [];
          for (let at = 0; at < body.length;) {
            const size = Math.min(body.length - at, rng.int(1, 4096));
            pieces.push(
              ascii(`${size.toString(16)}\r\n`),
              body.subarray(at, at + size),
              ascii('\r\n'),
            );
            at += size;
          }
          pieces.push(ascii('0\r\n\r\n'));
          wireBody = Buffer.concat(pieces);
          break;
        }
        case 'smaller':
          // The body is cut where the declared length ends: a complete request whose multipart
          // stops short (no final boundary, maybe mid-part).
          wireBody = body.subarray(0, body.length - smallerBy);
          headers.push(['Content-Length', String(wireBody.length)]);
          break;
        case 'larger':
          headers.push(['Content-Length', String(body.length + rng.int(1, 1000))]);
          break;
        case 'garbage':
          headers.push([
            'Content-Length',
            rng.pick(['abc', '-1', '1e3', '0x10', ' ', '99999999999999999999999']),
          ]);
          break;
        case 'conflicting':
          headers.push(
            ['Content-Length', String(body.length)],
            ['Content-Length', String(body.length + 5)],
          );
          break;
        case 'missing':
          break;
      }
      const at = Math.min(cutAt, wireBody.length);
      return {
        method: 'POST',
        path: '/graphql',
        headers,
        body: wireBody,
        splits,
        delivery:
          delivery === 'whole'
            ? length === 'larger'
              ? { kind: 'half-close', at: wireBody.length }
              : { kind: 'whole' }
            : delivery === 'half-close'
              ? { kind: 'half-close', at }
              : { kind: 'cut', at, rst: delivery === 'cut-rst' },
      };
    },
  };
}
