import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

// `npm run bench -- transfer`: a file of BENCH_TRANSFER_MB MiB (default 1024) through the real
// server over loopback, for each storage in BENCH_TRANSFER_STORAGES (default "local,s3"). The S3
// column uses BENCH_TRANSFER_S3_MB (default 256): s3rver, the stand-in S3, is slow JavaScript,
// and 33 downloads of a GiB through it would take minutes to say only that. Ratios are of
// throughputs, so columns of different sizes compare.
//
// - Upload: one GraphQL multipart request streamed from disk. Throughput as a ratio to `cp` of the
//   same bytes on the same disk in the same run (the issue's target); to the same request sent to
//   a bare Node server that only discards the body (the ceiling of any Node upload handler here);
//   to the same server parsing it with busboy and writing the file part to disk (the ceiling of a
//   multipart upload that keeps its bytes); and to SHA-256 of the same bytes on one core (the
//   ceiling of any content-addressed store: one hash cannot be split across cores). Also the
//   server's peak RSS growth over the uploads (VmHWM reset through /proc/<pid>/clear_refs just
//   before, read after).
// - Resumable upload (tus): the file in one PATCH and in 8 MiB PATCHes, each against the bare
//   server discarding the same bytes (the issue's target) and the same server writing them to a
//   file in 1 MiB writes (what keeping the bytes costs on this disk, without hash or database);
//   CPU seconds per GiB of both sides, and their ratio, since those hold steady under load.
// - Download: 1 and BENCH_TRANSFER_CLIENTS (default 32) concurrent GETs of the whole file, as a
//   ratio to a plain Node static-file server (fs stream piped to the response, no auth, no
//   history) serving the same bytes; then the file's history must hold exactly that many rows.
// - Every figure is measured BENCH_TRANSFER_ROUNDS times (default 3), each right after its
//   baseline so both see the same machine load; the median ratio is reported with its range.
//   This machine's throughput swings by tens of percent with its neighbours' load, and a single
//   pair is one sample of that noise.
//
// The server, the baseline server and the S3 stand-in run as child processes; this process is
// only the client. Everything lives in one temp folder, removed at the end.

const MiB = 1024 * 1024;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Measured {
  /** MiB/s over all clients. */
  rate: number;
  /** The serving process's CPU seconds (user + system, all threads) per GiB sent. */
  cpuPerGiB: number;
}

/** Rounds of a figure next to its baseline: medians, and the ratio's median and range. */
interface Compared {
  subject: Measured;
  baseline: Measured;
  ratio: number;
  low: number;
  high: number;
  /** A second baseline measured in the same rounds, where there is one. */
  second?: Omit<Compared, 'subject' | 'second'>;
}

interface Round {
  subject: Measured;
  baseline: Measured;
  second?: Measured;
}

interface Row {
  storage: string;
  label: string;
  mib: number;
  /** Cabinet's upload (rate in MiB/s) against the bare Node server that discards the body. */
  upload: Compared;
  rssGrowthMiB: number;
  /** Resumable upload (tus) in one PATCH, and in 8 MiB PATCHes, against the bare server. */
  tusWhole: Compared;
  tusChunks: Compared;
  tusRssGrowthMiB: number;
  /** Bytes a client sent for an upload cut at half and resumed, over the file's size, less one. */
  resumeOverhead: number | null;
  download1: Compared | null;
  downloadN: Compared | null;
  history: string;
}

export async function run(): Promise<void> {
  const sizeMiB = Number(process.env.BENCH_TRANSFER_MB ?? 1024);
  const clients = Number(process.env.BENCH_TRANSFER_CLIENTS ?? 32);
  const rounds = Number(process.env.BENCH_TRANSFER_ROUNDS ?? 3);
  const storages = (process.env.BENCH_TRANSFER_STORAGES ?? 'local,s3').split(',');
  const s3MiB = Number(process.env.BENCH_TRANSFER_S3_MB ?? Math.min(sizeMiB, 256));
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-bench-'));
  const loadAtStart = os.loadavg()[0]!;
  const children: ChildProcess[] = [];
  try {
    console.log(`\nTransfer over loopback (${os.cpus().length} cores)`);
    const sources = new Map<number, string>();
    for (const mib of new Set([sizeMiB, ...storages.map((s) => (s === 's3' ? s3MiB : sizeMiB))])) {
      const file = path.join(dir, `source-${mib}.bin`);
      await writeRandomFile(file, mib * MiB);
      sources.set(mib, file);
    }

    const copySeconds = await measureCopy(sources.get(sizeMiB)!, path.join(dir, 'copy.bin'));
    const copyRate = sizeMiB / copySeconds;
    console.log(`  cp ${sizeMiB} MiB: ${fmt(copySeconds)} s (${fmt(copyRate, 0)} MiB/s)`);

    const hashRate = await measureHash(sources.get(sizeMiB)!);
    console.log(`  SHA-256 of ${sizeMiB} MiB on one core: ${fmt(hashRate, 0)} MiB/s`);

    const baseline = await startChild(children, ['server/bench/static-server.ts', dir], {});
    const baseUrl = firstLine(baseline.stdout).trim();

    const nginx = await nginxReference(dir, sources.get(sizeMiB)!, sizeMiB * MiB, baseUrl, rounds);
    console.log(`  ${nginx.line}`);

    const rows: Row[] = [];
    for (const storage of storages) {
      const mib = storage === 's3' ? s3MiB : sizeMiB;
      const source = sources.get(mib)!;
      const row = await benchStorage(storage, {
        dir,
        source,
        bytes: mib * MiB,
        clients,
        rounds,
        children,
        baseOrigin: baseUrl,
        baseUrl: `${baseUrl}/${path.basename(source)}`,
        basePid: baseline.child.pid!,
      });
      row.label = `${storage} (${mib} MiB)`;
      rows.push(row);
      console.log(`  ${row.label}: done`);
    }
    await stop(baseline.child);
    printTable(rows, {
      sizeMiB,
      clients,
      rounds,
      copyRate,
      hashRate,
      nginx: nginx.line,
      loadAtStart,
    });
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function benchStorage(
  storage: string,
  ctx: {
    dir: string;
    source: string;
    bytes: number;
    clients: number;
    rounds: number;
    children: ChildProcess[];
    baseOrigin: string;
    baseUrl: string;
    basePid: number;
  },
): Promise<Row> {
  const work = path.join(ctx.dir, storage);
  await fs.mkdir(work);
  let s3Env: Record<string, string> = {};
  let s3: ChildProcess | null = null;
  if (storage === 's3') {
    const started = await startChild(ctx.children, ['server/bench/s3-server.ts'], {});
    s3 = started.child;
    s3Env = JSON.parse(firstLine(started.stdout)) as Record<string, string>;
  } else if (storage !== 'local') {
    throw new Error(`unknown storage ${storage}`);
  }
  const server = await startChild(ctx.children, ['server/src/main.ts'], {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${path.join(work, 'cabinet.sqlite')}`,
    FILES_DIR: path.join(work, 'files'),
    WEB_DIR: '',
    LOG_LEVEL: 'warn',
    MAX_UPLOAD_BYTES: String(ctx.bytes + MiB),
    ...s3Env,
  });
  const url = /running at (\S+)/.exec(await waitFor(server.stdout, /running at \S+/))![1]!;
  const pid = server.child.pid!;
  try {
    const token = await signUp(url);

    const gib = ctx.bytes / 1024 ** 3;
    // Throughput swings with whatever else runs on the machine; CPU seconds per GiB do not, so
    // both are reported.
    const timed = async (pid: number, gibs: number, work: () => Promise<number>) => {
      const cpu0 = await cpuSeconds(pid);
      const rate = await work();
      return { rate, cpuPerGiB: ((await cpuSeconds(pid)) - cpu0) / gibs };
    };
    const mibps = async (work: () => Promise<unknown>) => {
      const t0 = performance.now();
      await work();
      return ctx.bytes / MiB / ((performance.now() - t0) / 1000);
    };

    const before = await memory(pid);
    const canReset = await resetPeak(pid);
    let sampledPeak = before.rss;
    const sampler = setInterval(() => {
      memory(pid).then(
        (m) => (sampledPeak = Math.max(sampledPeak, m.rss)),
        () => undefined,
      );
    }, 20);
    let file = '';
    const upload = await compare('upload', ctx.rounds, async () => {
      // Written-back page cache for every upload alike, so none pays for another's writeback.
      await sync();
      const baseline = await timed(ctx.basePid, gib, () =>
        mibps(() => postMultipart(`${ctx.baseOrigin}/discard`, null, ctx.source, ctx.bytes)),
      );
      await sync();
      const second = await timed(ctx.basePid, gib, () =>
        mibps(() => postMultipart(`${ctx.baseOrigin}/store`, null, ctx.source, ctx.bytes)),
      );
      await sync();
      const subject = await timed(pid, gib, () =>
        mibps(async () => {
          const id = await uploadFile(url, token, ctx.source, ctx.bytes);
          file ||= id;
        }),
      );
      return { subject, baseline, second };
    });
    clearInterval(sampler);
    const after = await memory(pid);
    const peak = canReset ? after.hwm : Math.max(sampledPeak, after.rss);

    // Resumable uploads: the whole file in one PATCH, then in 8 MiB PATCHes (what the web app
    // sends), each against the bare server discarding the same bytes as one body.
    const tusBefore = await memory(pid);
    const tusCanReset = await resetPeak(pid);
    const bare = () =>
      timed(ctx.basePid, gib, () =>
        mibps(() => sendRange(`${ctx.baseOrigin}/discard`, 'POST', {}, ctx.source, 0, ctx.bytes)),
      );
    const bareWrite = () =>
      timed(ctx.basePid, gib, () =>
        mibps(() => sendRange(`${ctx.baseOrigin}/write`, 'POST', {}, ctx.source, 0, ctx.bytes)),
      );
    const tusRound = (chunk: number) => async () => {
      await sync();
      const baseline = await bare();
      await sync();
      const second = await bareWrite();
      await sync();
      const subject = await timed(pid, gib, () =>
        mibps(() => tusUpload(url, token, ctx.source, ctx.bytes, chunk)),
      );
      return { subject, baseline, second };
    };
    const tusWhole = await compare('tus, one PATCH', ctx.rounds, tusRound(ctx.bytes));
    const tusChunks = await compare('tus, 8 MiB PATCHes', ctx.rounds, tusRound(8 * MiB));
    const tusAfter = await memory(pid);
    const tusPeak = tusCanReset ? tusAfter.hwm : tusAfter.rss;

    // Resume: the file in one PATCH cut by the client once half of it was sent, then the rest
    // from the offset the server kept; every byte the client sent counts.
    const sent = await tusCutAndResume(url, token, ctx.source, ctx.bytes);
    const resumeOverhead = sent / ctx.bytes - 1;
    console.log(`    tus cut at 50 % and resumed: ${fmt(resumeOverhead * 100)} % more bytes sent`);

    const headers = { authorization: `Bearer ${token}` };
    const downloadUrl = `${url}/files/${file}/download`;
    const downloads = (n: number) =>
      compare(`download ×${n}`, ctx.rounds, async () => ({
        baseline: await timed(ctx.basePid, gib * n, () => downloadMany(ctx.baseUrl, n, {})),
        subject: await timed(pid, gib * n, () => downloadMany(downloadUrl, n, headers)),
      }));
    // BENCH_TRANSFER_DOWNLOADS=0 leaves the downloads out (the upload figures alone).
    const withDownloads = process.env.BENCH_TRANSFER_DOWNLOADS !== '0';
    const download1 = withDownloads ? await downloads(1) : null;
    const downloadN = withDownloads ? await downloads(ctx.clients) : null;
    const expected = withDownloads ? ctx.rounds * (1 + ctx.clients) : 0;
    const recorded = await history(url, token, file);

    return {
      storage,
      label: storage,
      mib: ctx.bytes / MiB,
      upload,
      rssGrowthMiB: (peak - before.rss) / MiB,
      tusWhole,
      tusChunks,
      tusRssGrowthMiB: (tusPeak - tusBefore.rss) / MiB,
      resumeOverhead,
      download1,
      downloadN,
      history:
        recorded.count === expected && recorded.rows === expected
          ? `${expected}/${expected} ✓`
          : `${recorded.rows} rows, count ${recorded.count}, expected ${expected} ✗`,
    };
  } finally {
    await stop(server.child);
    if (s3) await stop(s3);
  }
}

/** Runs `round` `rounds` times; medians of each side and of the per-round ratios. */
async function compare(
  label: string,
  rounds: number,
  round: () => Promise<Round>,
): Promise<Compared> {
  const results: Round[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await round();
    results.push(r);
    // Every round on its own line, so a bimodal figure shows as such and not only as a range.
    const second = r.second ? ` / ${fmt(r.second.rate, 0)}` : '';
    const secondCpu = r.second ? ` / ${fmt(r.second.cpuPerGiB)}` : '';
    console.log(
      `    ${label} round ${i + 1}: ${fmt(r.subject.rate, 0)} / ${fmt(r.baseline.rate, 0)}${second} ` +
        `MiB/s, CPU ${fmt(r.subject.cpuPerGiB)} / ${fmt(r.baseline.cpuPerGiB)}${secondCpu} s/GiB`,
    );
  }
  const side = (pick: (r: Round) => Measured | undefined): Measured => ({
    rate: median(results.map((r) => pick(r)!.rate)),
    cpuPerGiB: median(results.map((r) => pick(r)!.cpuPerGiB)),
  });
  const against = (pick: (r: Round) => Measured | undefined) => {
    const ratios = results.map((r) => r.subject.rate / pick(r)!.rate).sort((a, b) => a - b);
    return { baseline: side(pick), ratio: median(ratios), low: ratios[0]!, high: ratios.at(-1)! };
  };
  return {
    subject: side((r) => r.subject),
    ...against((r) => r.baseline),
    ...(results.every((r) => r.second) ? { second: against((r) => r.second) } : {}),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

// ---- client side -------------------------------------------------------------------------------

async function signUp(url: string): Promise<string> {
  const body = await gql(url, null, {
    query: `mutation { register(email: "bench@example.com", name: "Bench", password: "bench password") { token } }`,
  });
  return (body as { data: { register: { token: string } } }).data.register.token;
}

async function history(url: string, token: string, id: string) {
  const body = (await gql(url, token, {
    query: `query($id: ID!) { file(id: $id) { downloadCount downloads(first: 1) { totalCount } } }`,
    variables: { id },
  })) as { data: { file: { downloadCount: number; downloads: { totalCount: number } } } };
  return { count: body.data.file.downloadCount, rows: body.data.file.downloads.totalCount };
}

async function gql(url: string, token: string | null, payload: object): Promise<unknown> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(payload),
  });
  const body = (await res.json()) as { errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body;
}

/** `uploadFile` of the bytes of `file`; resolves to the new file's id. */
async function uploadFile(url: string, token: string, file: string, size: number) {
  const body = JSON.parse(await postMultipart(`${url}/graphql`, token, file, size)) as {
    data?: { uploadFile: { id: string; size: number } };
    errors?: unknown;
  };
  if (!body.data?.uploadFile || body.data.uploadFile.size !== size) {
    throw new Error(`upload failed: ${JSON.stringify(body.errors)}`);
  }
  return body.data.uploadFile.id;
}

/**
 * One GraphQL multipart request for `uploadFile`, the file part streamed from disk in 1 MiB reads;
 * resolves to the response body.
 */
function postMultipart(url: string, token: string | null, file: string, size: number) {
  const boundary = `----cabinet${randomBytes(12).toString('hex')}`;
  const operations = JSON.stringify({
    query: 'mutation($file: Upload!) { uploadFile(file: $file) { id size } }',
    variables: { file: null },
  });
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="bench.bin"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise<string>((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + size + tail.length,
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.write(head);
    pipeline(createReadStream(file, { highWaterMark: MiB }), req, { end: false })
      .then(() => req.end(tail))
      .catch(reject);
  });
}

/** Streams bytes [start, end) of `file` as one request body; resolves to status and headers. */
function sendRange(
  url: string,
  method: string,
  headers: Record<string, string>,
  file: string,
  start: number,
  end: number,
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      headers: { ...headers, 'content-length': end - start },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      res.on('error', reject);
    });
    if (end === start) return void req.end();
    pipeline(createReadStream(file, { start, end: end - 1, highWaterMark: MiB }), req).catch(
      reject,
    );
  });
}

/** A resumable upload of `file` through tus in PATCHes of `chunk` bytes; resolves to the file id. */
async function tusUpload(url: string, token: string, file: string, size: number, chunk: number) {
  const tus = { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` };
  const created = await sendRange(
    `${url}/uploads`,
    'POST',
    { ...tus, 'upload-length': String(size), 'upload-metadata': `filename ${btoa('bench.bin')}` },
    file,
    0,
    0,
  );
  if (created.status !== 201) throw new Error(`tus creation failed: ${created.status}`);
  const location = `${url}${String(created.headers.location)}`;
  let id: string | undefined;
  for (let offset = 0; offset < size; offset += chunk) {
    const res = await sendRange(
      location,
      'PATCH',
      {
        ...tus,
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
      },
      file,
      offset,
      Math.min(size, offset + chunk),
    );
    if (res.status !== 204) throw new Error(`tus PATCH failed: ${res.status}`);
    id = res.headers['cabinet-file-id'] as string | undefined;
  }
  if (!id) throw new Error('tus upload finished without Cabinet-File-Id');
  return id;
}

/**
 * A tus upload of `file` in one PATCH that the client cuts once half the file was written to the
 * socket, resumed from the offset the server reports; resolves to the bytes the client sent.
 */
async function tusCutAndResume(url: string, token: string, file: string, size: number) {
  const tus = { 'tus-resumable': '1.0.0', authorization: `Bearer ${token}` };
  const created = await sendRange(
    `${url}/uploads`,
    'POST',
    { ...tus, 'upload-length': String(size), 'upload-metadata': `filename ${btoa('cut.bin')}` },
    file,
    0,
    0,
  );
  const location = `${url}${String(created.headers.location)}`;
  const patchHeaders = (offset: number) => ({
    ...tus,
    'upload-offset': String(offset),
    'content-type': 'application/offset+octet-stream',
  });
  const half = Math.floor(size / 2);
  await new Promise<void>((resolve, reject) => {
    const req = http.request(location, {
      method: 'PATCH',
      headers: { ...patchHeaders(0), 'content-length': size },
    });
    req.on('error', () => undefined);
    req.on('response', () => reject(new Error('the cut PATCH was answered')));
    pipeline(createReadStream(file, { end: half - 1, highWaterMark: MiB }), req, { end: false })
      .then(() => {
        req.destroy();
        resolve();
      })
      .catch(reject);
  });
  // The server saves what arrived, then lets go of the upload: until then an empty PATCH at its
  // offset gets 409 (what a tus client does: ask for the offset again).
  let offset = 0;
  for (let tries = 0; ; tries++) {
    const head = await sendRange(location, 'HEAD', tus, file, 0, 0);
    offset = Number(head.headers['upload-offset']);
    const probe = await sendRange(location, 'PATCH', patchHeaders(offset), file, 0, 0);
    if (probe.status === 204) break;
    if (tries > 200) throw new Error(`resume probe kept failing: ${probe.status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const rest = await sendRange(location, 'PATCH', patchHeaders(offset), file, offset, size);
  if (rest.status !== 204 || !rest.headers['cabinet-file-id']) {
    throw new Error(`tus resume failed: ${rest.status}`);
  }
  return half + (size - offset);
}

/**
 * Debian's nginx receiving the same body into a file (`client_body_in_file_only`, through its
 * WebDAV PUT), against the bare Node server discarding it, when nginx is installed; a note
 * otherwise. The non-Node reference for what receiving a body can cost here.
 */
async function nginxReference(
  dir: string,
  source: string,
  bytes: number,
  bareOrigin: string,
  rounds: number,
): Promise<{ line: string }> {
  const binary = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (!binary)
    return {
      line: 'nginx reference: skipped (nginx is not installed; not installed by the bench)',
    };
  const root = path.join(dir, 'nginx');
  await fs.mkdir(path.join(root, 'body'), { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  // Started as root, nginx runs its workers as `nobody`, who may not enter this run's private
  // temp folder: every PUT then fails with 500 ("open() … failed (13: Permission denied)" in its
  // error.log). The workers run as the bench's own user instead; only loopback is served.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  await fs.writeFile(
    path.join(root, 'nginx.conf'),
    `${user} daemon off; worker_processes 1; pid ${root}/nginx.pid; error_log ${root}/error.log;
events {}
http {
  access_log off;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 0;
    client_body_buffer_size 1m;
    client_body_in_file_only clean;
    client_body_temp_path ${root}/body;
    location / { root ${root}; dav_methods PUT; create_full_put_path on; }
  }
}
`,
  );
  const child = spawn(binary, ['-c', path.join(root, 'nginx.conf'), '-p', root], {
    stdio: 'ignore',
  });
  try {
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      await sync();
      let t0 = performance.now();
      await sendRange(`${bareOrigin}/discard`, 'POST', {}, source, 0, bytes);
      const bare = bytes / MiB / ((performance.now() - t0) / 1000);
      await sync();
      t0 = performance.now();
      let res: { status: number } = { status: 0 };
      for (let tries = 0; tries < 50 && res.status === 0; tries++) {
        res = await sendRange(
          `http://127.0.0.1:${port}/put-${i}.bin`,
          'PUT',
          {},
          source,
          0,
          bytes,
        ).catch(async () => {
          await new Promise((r) => setTimeout(r, 100));
          t0 = performance.now();
          return { status: 0 };
        });
      }
      if (res.status >= 300 || res.status === 0) {
        const log = await fs.readFile(path.join(root, 'error.log'), 'utf8').catch(() => '');
        const last = log.trim().split('\n').at(-1) ?? '';
        throw new Error(`nginx PUT: ${res.status}${last ? `; its error.log: ${last}` : ''}`);
      }
      const rate = bytes / MiB / ((performance.now() - t0) / 1000);
      await fs.rm(path.join(root, `put-${i}.bin`), { force: true });
      ratios.push(rate / bare);
      console.log(`    nginx round ${i + 1}: ${fmt(rate, 0)} / ${fmt(bare, 0)} MiB/s`);
    }
    ratios.sort((a, b) => a - b);
    return {
      line: `nginx PUT into a file ÷ bare Node server: ${fmt(median(ratios))}× (${fmt(ratios[0]!)}–${fmt(ratios.at(-1)!)})`,
    };
  } catch (err) {
    return { line: `nginx reference: failed (${(err as Error).message})` };
  } finally {
    child.kill('SIGTERM');
  }
}

/** `n` concurrent GETs of the whole body, discarded; resolves to total MiB/s. */
async function downloadMany(url: string, n: number, headers: Record<string, string>) {
  const agent = new http.Agent({ keepAlive: false, maxSockets: n });
  const t0 = performance.now();
  const sizes = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<number>((resolve, reject) => {
          http
            .get(url, { headers, agent }, (res) => {
              if (res.statusCode !== 200) reject(new Error(`download: ${res.statusCode}`));
              let received = 0;
              res.on('data', (c: Buffer) => (received += c.length));
              res.on('end', () => resolve(received));
              res.on('error', reject);
            })
            .on('error', reject);
        }),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return sizes.reduce((a, b) => a + b, 0) / MiB / seconds;
}

// ---- processes, files, memory --------------------------------------------------------------------

interface Started {
  child: ChildProcess;
  stdout: string[];
}

async function startChild(
  children: ChildProcess[],
  args: string[],
  env: Record<string, string>,
): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const stdout: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => stdout.push(d));
  await waitFor(stdout, /\S\n/, child);
  return { child, stdout };
}

async function waitFor(lines: string[], pattern: RegExp, child?: ChildProcess): Promise<string> {
  // Generous: on a machine loaded by other builds the server takes tens of seconds to start.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const text = lines.join('');
    const match = pattern.exec(text);
    if (match) return match[0];
    if (child && child.exitCode !== null) throw new Error(`child exited: ${text}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${text}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const firstLine = (lines: string[]) => lines.join('').split('\n')[0]!;

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await Promise.race([
    new Promise<void>((r) => child.once('exit', () => r())),
    new Promise((r) => setTimeout(r, 5_000)),
  ]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

async function writeRandomFile(file: string, size: number): Promise<void> {
  const out = createWriteStream(file);
  // Random, so no layer can compress or dedupe its way to a better figure; 16 MiB reused blocks
  // with a fresh prefix each keep generation fast.
  const block = randomBytes(16 * MiB);
  for (let written = 0, i = 0; written < size; i++) {
    const n = Math.min(block.length, size - written);
    const chunk = Buffer.from(block.subarray(0, n));
    chunk.writeUInt32LE(i, 0);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    written += n;
  }
  out.end();
  await finished(out);
}

function sync(): Promise<void> {
  return new Promise((resolve) => spawn('sync', { stdio: 'ignore' }).on('exit', () => resolve()));
}

async function measureCopy(source: string, target: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    await fs.rm(target, { force: true });
    await sync();
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      spawn('cp', [source, target], { stdio: 'inherit' }).on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`cp exited ${code}`)),
      );
    });
    times.push((performance.now() - t0) / 1000);
  }
  await fs.rm(target, { force: true });
  return times.sort((a, b) => a - b)[1]!;
}

/** MiB/s of SHA-256 over a file read in 1 MiB chunks (median of 3), in this process. */
async function measureHash(file: string): Promise<number> {
  const rates: number[] = [];
  const { size } = await fs.stat(file);
  for (let i = 0; i < 3; i++) {
    const hash = createHash('sha256');
    const t0 = performance.now();
    for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk);
    hash.digest();
    rates.push(size / MiB / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** User + system CPU seconds of a process so far, all threads (Linux /proc, 100 ticks/s). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function memory(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

/** Resets the process's VmHWM to its current RSS (Linux ≥ 4.0); false where that is refused. */
async function resetPeak(pid: number): Promise<boolean> {
  try {
    await fs.writeFile(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---- report -------------------------------------------------------------------------------------

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const mark = (ok: boolean) => (ok ? '✓' : '✗');

function printTable(
  rows: Row[],
  ctx: {
    sizeMiB: number;
    clients: number;
    rounds: number;
    copyRate: number;
    hashRate: number;
    nginx: string;
    loadAtStart: number;
  },
): void {
  const range = (c: Omit<Compared, 'subject' | 'second'>) =>
    `${fmt(c.ratio)}× (${fmt(c.low)}–${fmt(c.high)})`;
  const ratio = (c: Compared | null, target: number) =>
    c ? `${range(c)} ${mark(c.ratio >= target)}` : '—';
  // The same comparison in CPU seconds per GiB (baseline ÷ Cabinet): what the ratio of
  // throughputs would be if each server had one core to itself and nothing else ran. It holds
  // steady under the neighbours' load where throughput swings; Cabinet's hash thread can run on
  // a second core, so on a quiet machine the throughput ratio may pass it.
  // Against the bare server that writes the body to a file: what keeping the bytes costs alone.
  const writeRatio = (c: Compared) =>
    c.second
      ? `${range(c.second)} of ${fmt(c.second.baseline.rate, 0)} MiB/s, CPU ` +
        `${fmt(c.second.baseline.cpuPerGiB)} s/GiB`
      : '—';
  const cpuRatio = (c: Compared | null, target: number) => {
    if (!c) return '—';
    const x = c.baseline.cpuPerGiB / c.subject.cpuPerGiB;
    return `${fmt(x)}× (${fmt(c.subject.cpuPerGiB)} / ${fmt(c.baseline.cpuPerGiB)} s/GiB) ${mark(x >= target)}`;
  };
  const rates = (c: Compared | null) =>
    c ? `${fmt(c.subject.rate, 0)} / ${fmt(c.baseline.rate, 0)}` : '—';
  const cpu = (c: Compared | null) =>
    c ? `${fmt(c.subject.cpuPerGiB)} / ${fmt(c.baseline.cpuPerGiB)}` : '—';
  const lines: [string, ...string[]][] = [
    ['', ...rows.map((r) => r.label)],
    ['upload (MiB/s): Cabinet / bare Node server', ...rows.map((r) => rates(r.upload))],
    [
      'upload ÷ cp (target ≥ 0.5)',
      ...rows
        .map((r) => r.upload.subject.rate / ctx.copyRate)
        .map((x) => `${fmt(x)}× ${mark(x >= 0.5)}`),
    ],
    [
      'upload ÷ SHA-256 alone on one core (ceiling 1)',
      ...rows.map((r) => `${fmt(r.upload.subject.rate / ctx.hashRate)}×`),
    ],
    ['upload ÷ bare Node server (ceiling 1)', ...rows.map((r) => range(r.upload))],
    [
      'upload ÷ busboy-to-disk Node server (MiB/s)',
      ...rows.map((r) => `${range(r.upload.second!)} of ${fmt(r.upload.second!.baseline.rate, 0)}`),
    ],
    [
      'upload CPU s/GiB: Cabinet / bare / busboy-to-disk',
      ...rows.map((r) => `${cpu(r.upload)} / ${fmt(r.upload.second!.baseline.cpuPerGiB)}`),
    ],
    [
      'upload CPU: busboy-to-disk ÷ Cabinet (target ≥ 1.0)',
      ...rows.map((r) => {
        const x = r.upload.second!.baseline.cpuPerGiB / r.upload.subject.cpuPerGiB;
        return `${fmt(x)}× ${mark(x >= 1)}`;
      }),
    ],
    [
      'server RSS growth (target < 64 MiB)',
      ...rows.map((r) => `${fmt(r.rssGrowthMiB, 1)} MiB ${mark(r.rssGrowthMiB < 64)}`),
    ],
    ['tus, one PATCH (MiB/s): Cabinet / bare Node server', ...rows.map((r) => rates(r.tusWhole))],
    ['tus, one PATCH ÷ bare (target ≥ 0.6)', ...rows.map((r) => ratio(r.tusWhole, 0.6))],
    [
      'tus, one PATCH ÷ bare server writing the body to a file',
      ...rows.map((r) => writeRatio(r.tusWhole)),
    ],
    [
      'tus, one PATCH, CPU: bare ÷ Cabinet (Cabinet / bare)',
      ...rows.map((r) => cpuRatio(r.tusWhole, 0.6)),
    ],
    [
      'tus, 8 MiB PATCHes (MiB/s): Cabinet / bare Node server',
      ...rows.map((r) => rates(r.tusChunks)),
    ],
    ['tus, 8 MiB PATCHes ÷ bare (target ≥ 0.5)', ...rows.map((r) => ratio(r.tusChunks, 0.5))],
    [
      'tus, 8 MiB PATCHes ÷ bare server writing the body to a file',
      ...rows.map((r) => writeRatio(r.tusChunks)),
    ],
    [
      'tus, 8 MiB PATCHes, CPU: bare ÷ Cabinet (Cabinet / bare)',
      ...rows.map((r) => cpuRatio(r.tusChunks, 0.5)),
    ],
    [
      'server RSS growth over tus (target < 64 MiB)',
      ...rows.map((r) => `${fmt(r.tusRssGrowthMiB, 1)} MiB ${mark(r.tusRssGrowthMiB < 64)}`),
    ],
    [
      'tus cut at 50 % and resumed: extra bytes sent (target ≤ 1 %)',
      ...rows.map((r) =>
        r.resumeOverhead === null
          ? '—'
          : `${fmt(r.resumeOverhead * 100)} % ${mark(r.resumeOverhead <= 0.01)}`,
      ),
    ],
    ['download ×1 (MiB/s): Cabinet / baseline', ...rows.map((r) => rates(r.download1))],
    ['download ×1 ÷ baseline (target ≥ 0.9)', ...rows.map((r) => ratio(r.download1, 0.9))],
    [
      `download ×${ctx.clients} (MiB/s total): Cabinet / baseline`,
      ...rows.map((r) => rates(r.downloadN)),
    ],
    [
      `download ×${ctx.clients} ÷ baseline (target ≥ 0.9)`,
      ...rows.map((r) => ratio(r.downloadN, 0.9)),
    ],
    ['server CPU s/GiB sent ×1: Cabinet / baseline', ...rows.map((r) => cpu(r.download1))],
    [
      `server CPU s/GiB sent ×${ctx.clients}: Cabinet / baseline`,
      ...rows.map((r) => cpu(r.downloadN)),
    ],
    ['history rows = downloads', ...rows.map((r) => r.history)],
  ];
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  console.log('');
  for (const [i, line] of lines.entries()) {
    console.log(`  ${line.map((cell, j) => cell.padEnd(widths[j]!)).join('  │  ')}`);
    if (i === 0) console.log(`  ${widths.map((w) => '─'.repeat(w)).join('──┼──')}`);
  }
  console.log(
    `\n  Medians of ${ctx.rounds} rounds, each figure right after its baseline; ratios with their ` +
      `range over the rounds. cp ${fmt(ctx.copyRate, 0)} MiB/s (median of 3). Baselines: a plain ` +
      `Node server piping an fs stream to the response, the same server discarding an upload's ` +
      `body, the same server parsing it with busboy and writing the file in 1 MiB writes, and ` +
      `the same server writing the raw body to a file in 1 MiB writes (tus). ` +
      `CPU: user + system seconds of the serving process (all its threads) per GiB, from /proc. ` +
      `Load average ${ctx.loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} ` +
      `at the end, on ${os.cpus().length} cores. ${ctx.nginx}.\n`,
  );
}
