import os from 'node:os';
import sharp from 'sharp';
import { startTestServer } from '../test/harness.js';
import { uploadOk } from '../test/uploads.js';

// Thumbnails (issue 15): a 24-megapixel JPEG's 256 px thumbnail on its first request (made,
// stored) and once cached, p50/p95; a gallery page of 100 photos' thumbnails from a cold cache,
// six requests at a time as a browser sends them; each beside sharp's own time for the same
// resize of the same bytes in the same run (the floor: decode, resize, encode, nothing else).
// The server runs in this process on a temp SQLite database and local storage.

const ROUNDS = Math.max(3, Number(process.env.BENCH_PREVIEW_ROUNDS ?? 7));
const CACHED = 50;
const GALLERY = 100;
const GALLERY_ROUNDS = Math.max(1, Number(process.env.BENCH_GALLERY_ROUNDS ?? 3));

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const ms = (n: number) => n.toFixed(n < 10 ? 1 : 0);

async function timed<T>(work: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await work();
  return [performance.now() - start, result];
}

interface Cost {
  wall: number;
  /** CPU time of this process, every thread. */
  cpu: number;
}

async function cost(work: () => Promise<unknown>): Promise<Cost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 };
}

/** `work` over `items`, `n` at a time. */
async function inParallel<T>(items: readonly T[], n: number, work: (item: T) => Promise<unknown>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
    }),
  );
}

/** What the server does to the bytes, alone. */
const sharpAlone = (bytes: Buffer) =>
  sharp(bytes, { limitInputPixels: 100_000_000, failOn: 'error' })
    .rotate()
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort: 2 })
    .toBuffer();

/** A photo-like JPEG (noise compresses like detail does); `seed` makes its bytes differ. */
const photo = (width: number, height: number, seed: number) =>
  sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: 90, g: 120, b: 160 },
      noise: { type: 'gaussian', mean: 120 + (seed % 20), sigma: 30 },
    },
  })
    .jpeg({ quality: 85 + (seed % 10) })
    .toBuffer();

export async function run(): Promise<void> {
  const t = await startTestServer();
  try {
    const { token } = await t.signUp('bench@example.com');
    const thumb = async (id: string) => {
      const res = await fetch(`${t.url}/files/${id}/thumbnail?size=256`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) throw new Error(`thumbnail ${id}: ${res.status}`);
      await res.arrayBuffer();
    };

    const first: number[] = [];
    const alone: number[] = [];
    let cachedId = '';
    let bytesOfOne = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = await photo(6000, 4000, round);
      bytesOfOne = bytes.length;
      const file = await uploadOk(t, bytes, { token, filename: `photo-${round}.jpg` });
      alone.push((await timed(() => sharpAlone(bytes)))[0]);
      first.push((await timed(() => thumb(file.id)))[0]);
      cachedId = file.id;
    }
    const cached: number[] = [];
    for (let i = 0; i < CACHED; i++) cached.push((await timed(() => thumb(cachedId)))[0]);

    // The gallery: 100 distinct 2-megapixel photos, all thumbnails wanted at once, in rounds of
    // new photos (a cold cache each time). Each round measures, one right after another so that
    // all three see the same machine load: sharp alone one after another, sharp alone as many at
    // a time as there are cores (the floor on this machine), and the server's cold page. Wall
    // time and CPU time (every thread of this process: the server, its sharp work and the
    // client) per thumbnail; CPU time barely moves with other programs' load, wall time does.
    const cores = Math.max(1, os.availableParallelism());
    const rounds: { cold: Cost; series: Cost; parallel: Cost; warm: Cost }[] = [];
    for (let round = 0; round < GALLERY_ROUNDS; round++) {
      const pictures = await Promise.all(
        Array.from({ length: GALLERY }, (_, i) => photo(1600, 1200, 1000 + round * GALLERY + i)),
      );
      const ids: string[] = [];
      for (const [i, bytes] of pictures.entries()) {
        ids.push((await uploadOk(t, bytes, { token, filename: `g${round}-${i}.jpg` })).id);
      }
      const page = () => inParallel(ids, 6, thumb);
      const series = await cost(async () => {
        for (const bytes of pictures) await sharpAlone(bytes);
      });
      const cold = await cost(page);
      const parallel = await cost(() => inParallel(pictures, cores, sharpAlone));
      const warm = await cost(page);
      rounds.push({ cold, series, parallel, warm });
      console.log(
        `gallery round ${round + 1}: cold ${ms(cold.wall)} ms (cpu ${ms(cold.cpu)}), sharp alone ` +
          `in series ${ms(series.wall)} ms (cpu ${ms(series.cpu)}), ${cores} at a time ` +
          `${ms(parallel.wall)} ms; cached page ${ms(warm.wall)} ms; load ${os.loadavg()[0]!.toFixed(1)}`,
      );
    }
    const med = (pick: (r: (typeof rounds)[number]) => number) => percentile(rounds.map(pick), 50);
    const range = (pick: (r: (typeof rounds)[number]) => number) => {
      const values = rounds.map(pick);
      return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
    };

    const mb = (bytesOfOne / 1024 / 1024).toFixed(1);
    console.log(
      `\nThumbnails (256 px WebP), ${ROUNDS} rounds; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`,
    );
    console.log('| case | p50 ms | p95 ms | sharp alone p50 ms |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(
      `| 24 MP JPEG (${mb} MB), first request | ${ms(percentile(first, 50))} | ${ms(percentile(first, 95))} | ${ms(percentile(alone, 50))} |`,
    );
    console.log(
      `| same, cached (${CACHED} requests) | ${ms(percentile(cached, 50))} | ${ms(percentile(cached, 95))} | — |`,
    );
    console.log(
      `\nGallery of ${GALLERY} (2 MP JPEGs), cold, medians of ${GALLERY_ROUNDS} rounds (ratios: range over the rounds)`,
    );
    console.log('| per thumbnail | wall ms | CPU ms | server ÷ sharp alone, wall | CPU |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    const per = (n: number) => ms(n / GALLERY);
    console.log(
      `| server, cold page (6 requests at a time) | ${per(med((r) => r.cold.wall))} | ${per(med((r) => r.cold.cpu))} | — | — |`,
    );
    console.log(
      `| sharp alone, one after another | ${per(med((r) => r.series.wall))} | ${per(med((r) => r.series.cpu))} | ` +
        `${med((r) => r.cold.wall / r.series.wall).toFixed(2)}× (${range((r) => r.cold.wall / r.series.wall)}) | ` +
        `${med((r) => r.cold.cpu / r.series.cpu).toFixed(2)}× (${range((r) => r.cold.cpu / r.series.cpu)}) |`,
    );
    console.log(
      `| sharp alone, ${cores} at a time | ${per(med((r) => r.parallel.wall))} | ${per(med((r) => r.parallel.cpu))} | ` +
        `${med((r) => r.cold.wall / r.parallel.wall).toFixed(2)}× (${range((r) => r.cold.wall / r.parallel.wall)}) | ` +
        `${med((r) => r.cold.cpu / r.parallel.cpu).toFixed(2)}× |`,
    );
    console.log(
      `| server, the same page cached | ${per(med((r) => r.warm.wall))} | ${per(med((r) => r.warm.cpu))} | — | — |`,
    );
  } finally {
    await t.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
