import busboy from 'busboy';
import { createReadStream, createWriteStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

// The baselines of the transfer bench, the plainest Node servers (no auth, no database, no
// history): `GET /<name>` pipes a file of one folder to the response; `POST /discard` reads the
// request body, throws it away and answers with its length, the ceiling any Node upload handler
// can reach on this machine; `POST /store` parses the multipart body with busboy (the parser
// under graphql-upload-minimal) and writes the file part to disk in 1 MiB writes, then deletes
// it: what any multipart upload that keeps its bytes can reach, without hashing, GraphQL or a
// database; `POST /write` writes the raw request body to a file in 1 MiB writes, then deletes it:
// what any resumable upload that keeps its bytes can reach, without hashing or a database.
// Prints its URL; stops on SIGTERM.
const dir = process.argv[2]!;
const MiB = 1024 * 1024;
let stored = 0;

/** Gathers chunks into 1 MiB buffers, as Cabinet's HashMeter does before its file writes. */
class Batches extends Transform {
  #out: Buffer[] = [];
  #length = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.#out.push(chunk);
    this.#length += chunk.length;
    if (this.#length >= MiB) this.#push();
    callback();
  }
  override _flush(callback: TransformCallback) {
    this.#push();
    callback();
  }
  #push() {
    if (this.#length) this.push(Buffer.concat(this.#out, this.#length));
    this.#out = [];
    this.#length = 0;
  }
}

function store(req: http.IncomingMessage, res: http.ServerResponse) {
  const parser = busboy({ headers: req.headers, defParamCharset: 'utf8' });
  const writes: Promise<number>[] = [];
  parser.on('field', () => undefined);
  parser.on('file', (_name, file) => {
    const target = path.join(dir, `store-${++stored}.part`);
    let size = 0;
    file.on('data', (chunk: Buffer) => (size += chunk.length));
    writes.push(
      pipeline(file, new Batches(), createWriteStream(target, { flags: 'wx' })).then(async () => {
        await rm(target);
        return size;
      }),
    );
  });
  parser.on('close', () => {
    Promise.all(writes).then(
      (sizes) => res.writeHead(200).end(JSON.stringify({ received: sizes })),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  req.pipe(parser);
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/discard') {
    let received = 0;
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => res.writeHead(200).end(JSON.stringify({ received })));
    return;
  }
  if (req.method === 'POST' && req.url === '/store') return store(req, res);
  if (req.method === 'POST' && req.url === '/write') {
    const target = path.join(dir, `write-${++stored}.part`);
    pipeline(req, new Batches(), createWriteStream(target, { flags: 'wx' }))
      .then(() => rm(target))
      .then(
        () => res.writeHead(200).end(),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    return;
  }
  const name = (req.url ?? '/').slice(1);
  if (!/^[\w.-]+$/.test(name)) return void res.writeHead(404).end();
  const file = path.join(dir, name);
  stat(file).then(
    ({ size }) => {
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
      createReadStream(file).pipe(res);
    },
    () => res.writeHead(404).end(),
  );
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
