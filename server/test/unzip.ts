import http from 'node:http';
import yauzl from 'yauzl';

/** CRC-32 as ZIP defines it, bit by bit: an oracle independent of what the server uses. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** Unpacks a ZIP held in memory: entry name → bytes, in order; each entry's CRC must hold. */
export function unzip(bytes: Buffer): Promise<[string, Buffer][]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, decodeStrings: true }, (err, zip) => {
      if (err) return reject(err);
      const entries: [string, Buffer][] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const bytes = Buffer.concat(chunks);
            if (crc32(bytes) !== entry.crc32) reject(new Error(`bad CRC for ${entry.fileName}`));
            entries.push([entry.fileName, bytes]);
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * GETs a ZIP, holds the response once its headers came (every file counted by then), runs
 * `meanwhile` (a blob removed, say), then reads on to the end or the cut.
 */
export function readZipAfter(
  url: string,
  headers: Record<string, string>,
  meanwhile: () => Promise<unknown>,
): Promise<{ received: number; length: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
      res.pause();
      let received = 0;
      void meanwhile().then(() => {
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        const done = () =>
          resolve({
            received,
            length: Number(res.headers['content-length']),
            complete: res.complete,
          });
        res.on('end', done);
        res.on('close', done);
        res.resume();
      }, reject);
    });
    req.on('error', () => undefined);
  });
}
