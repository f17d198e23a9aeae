import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

// The download baseline of the transfer bench: the plainest Node static-file server (no auth, no
// database, no history), piping `GET /<name>` of one folder to the response. Prints its URL;
// stops on SIGTERM.
const dir = process.argv[2]!;
const server = http.createServer((req, res) => {
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
