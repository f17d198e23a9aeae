import net from 'node:net';

// HTTP/1.1 over a bare socket: the fuzzer decides every byte of the request (garbage header
// values, wrong lengths, half a body) and how the connection ends, which neither fetch nor
// http.request allow. Each request uses its own connection with `Connection: close`.

export interface WireRequest {
  method: string;
  /** The request target, sent as is. */
  path: string;
  /** Header lines in order; values may hold any bytes. */
  headers: [string, string | Buffer][];
  body: Buffer;
  /** Offsets where the body is split into separate writes (parsers must cope with any split). */
  splits?: number[];
  /**
   * whole: send everything and wait for the answer; half-close: send the first `at` bytes of the
   * body, end our side and wait; cut: send the first `at` bytes and drop the connection (FIN or
   * RST) without waiting for anything.
   */
  delivery:
    | { kind: 'whole' }
    | { kind: 'half-close'; at: number }
    | { kind: 'cut'; at: number; rst: boolean };
}

export type WireOutcome =
  | {
      kind: 'answered';
      status: number;
      headers: Record<string, string>;
      body: Buffer;
    }
  /** The server closed without a complete response. */
  | { kind: 'closed'; partial: string }
  | { kind: 'reset'; code: string; partial: string }
  | { kind: 'timeout'; partial: string }
  /** We cut the connection ourselves, as asked. */
  | { kind: 'cut' };

export function encodeHead(req: WireRequest): Buffer {
  const lines: Buffer[] = [Buffer.from(`${req.method} ${req.path} HTTP/1.1\r\n`, 'latin1')];
  for (const [name, value] of req.headers) {
    lines.push(Buffer.from(`${name}: `, 'latin1'));
    lines.push(typeof value === 'string' ? Buffer.from(value, 'latin1') : value);
    lines.push(Buffer.from('\r\n'));
  }
  lines.push(Buffer.from('\r\n'));
  return Buffer.concat(lines);
}

type Parsed = { status: number; headers: Record<string, string>; body: Buffer };

/** A complete response from the start of `buf`, or null while more bytes are needed. */
export function parseResponse(buf: Buffer, eof: boolean): Parsed | null {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine = '', ...headerLines] = buf
    .subarray(0, headEnd)
    .toString('latin1')
    .split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  if (!Number.isInteger(status)) return null;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = buf.subarray(headEnd + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let at = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at);
      if (lineEnd < 0) return null;
      const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
      if (!Number.isFinite(size)) return null;
      if (size === 0) return { status, headers, body: Buffer.concat(chunks) };
      if (rest.length < lineEnd + 2 + size + 2) return null;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (rest.length < length) return null;
    return { status, headers, body: rest.subarray(0, length) };
  }
  // No framing: the body runs to the end of the connection (204/304 have none).
  if (status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  return eof ? { status, headers, body: rest } : null;
}

export function sendWire(port: number, req: WireRequest, timeoutMs = 10_000): Promise<WireOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let done = false;
    const finish = (outcome: WireOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const partial = () => Buffer.concat(received).toString('latin1').slice(0, 300);
    const timer = setTimeout(() => finish({ kind: 'timeout', partial: partial() }), timeoutMs);
    const tryParse = (eof: boolean) => {
      const parsed = parseResponse(Buffer.concat(received), eof);
      if (parsed) finish({ kind: 'answered', ...parsed });
      return parsed !== null;
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      tryParse(false);
    });
    socket.on('end', () => {
      if (!tryParse(true)) finish({ kind: 'closed', partial: partial() });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // An answer that arrived whole before the reset still counts as the answer.
      if (!tryParse(true))
        finish({ kind: 'reset', code: err.code ?? err.message, partial: partial() });
    });
    socket.on('close', () => {
      if (!tryParse(true)) finish({ kind: 'closed', partial: partial() });
    });

    const { delivery } = req;
    const bodyEnd = delivery.kind === 'whole' ? req.body.length : delivery.at;
    const cuts = [...new Set((req.splits ?? []).filter((s) => s > 0 && s < bodyEnd))].sort(
      (a, b) => a - b,
    );
    const pieces: Buffer[] = [encodeHead(req)];
    let from = 0;
    for (const at of [...cuts, bodyEnd]) {
      pieces.push(req.body.subarray(from, at));
      from = at;
    }
    socket.once('connect', () => {
      (async () => {
        for (const piece of pieces) {
          if (done || socket.destroyed) return;
          await new Promise<void>((r) => socket.write(piece, () => r()));
        }
        if (done || socket.destroyed) return;
        if (delivery.kind === 'half-close') socket.end();
        else if (delivery.kind === 'cut') {
          if (delivery.rst) socket.resetAndDestroy();
          else socket.destroy();
          finish({ kind: 'cut' });
        }
      })().catch(() => undefined);
    });
  });
}
