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

    // The gallery: 100 distinct 2-megapixel photos, all thumbnails wanted at once.
    const pictures = await Promise.all(
      Array.from({ length: GALLERY }, (_, i) => photo(1600, 1200, 1000 + i)),
    );
    const ids: string[] = [];
    for (const [i, bytes] of pictures.entries()) {
      ids.push((await uploadOk(t, bytes, { token, filename: `g${i}.jpg` })).id);
    }
    const page = async () => {
      const queue = [...ids];
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          for (let id = queue.shift(); id; id = queue.shift()) await thumb(id);
        }),
      );
    };
    const [cold] = await timed(page);
    const [warm] = await timed(page);
    const [aloneGallery] = await timed(async () => {
      for (const bytes of pictures) await sharpAlone(bytes);
    });

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
    console.log('| case | total ms | per thumbnail ms | sharp alone, one after another |');
    console.log('| --- | ---: | ---: | ---: |');
    console.log(
      `| gallery of ${GALLERY} (2 MP JPEGs), cold | ${ms(cold)} | ${ms(cold / GALLERY)} | ${ms(aloneGallery)} |`,
    );
    console.log(`| same page again, cached | ${ms(warm)} | ${ms(warm / GALLERY)} | — |`);
  } finally {
    await t.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
