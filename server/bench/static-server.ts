import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

// The baselines of the transfer bench, the plainest Node servers (no auth, no database, no
// parsing, no history): `GET /<name>` pipes a file of one folder to the response; `POST /discard`
// reads the request body, throws it away and answers with its length, the ceiling any Node upload
// handler can reach on this machine. Prints its URL; stops on SIGTERM.
const dir = process.argv[2]!;
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/discard') {
    let received = 0;
    req.on('data', (chunk: Buffer) => (received += chunk.length));
    req.on('end', () => res.writeHead(200).end(JSON.stringify({ received })));
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
