import { foldTagLinkMoves } from '../modules/stats/tag-moves.js';
import { addToRollups } from '../modules/maintenance/rollup-drift.repository.js';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { openDatabase, type Dialect } from '../db/connection.js';
import type { Db, Executor } from '../db/database.js';
import { sortKey } from '../db/sort-key.js';
import { migrateToLatest } from '../db/migrate.js';
import { hashPassword } from '../modules/auth/password.js';
import { createStorage } from '../storage/index.js';
import { mulberry32 } from './mulberry32.js';
import { cliConfig } from './setup.js';
import { EXTENSIONS, TAG_BASES, TAG_QUALIFIERS, WORDS } from './seed-words.js';

// `npm run seed -- --files N --users U --downloads D [--tags T] [--blobs B] [--seed S]`
//
// Adds a realistic library to the database named by DATABASE_URL (and blobs to the configured
// store): users, tags with a skewed (Zipf) popularity, files named from a word list, each with its
// type tag and up to three topical tags, downloads spread over the last year with a few files
// much more popular than the rest. Every file points at a real small blob written through the
// storage driver, so each one downloads. Counters (upload/download counts, blob references, and
// the trigger-kept tag, file and hourly download counters) come out consistent.
//
// Speed: rows are computed in memory first, then inserted in multi-row statements inside
// transactions of ~50,000 rows; files get explicit ids so links and downloads need no lookups.

const usage =
  'usage: npm run seed -- [--files N] [--users U] [--downloads D] [--tags T] [--blobs B] [--seed S]';
const opts = (() => {
  try {
    return parseArgs({
      options: {
        files: { type: 'string', default: '10000' },
        users: { type: 'string', default: '50' },
        downloads: { type: 'string' },
        tags: { type: 'string', default: '200' },
        blobs: { type: 'string', default: '500' },
        seed: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    // An unknown or incomplete option: say which, without a stack trace.
    console.error(`${usage}\n${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  }
})();
if (opts.help) {
  console.log(usage);
  process.exit(0);
}

const count = (name: string, value: string | undefined, min = 0) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) {
    console.error(`--${name} must be a whole number of at least ${min}`);
    process.exit(2);
  }
  return n;
};
const FILES = count('files', opts.files);
const USERS = count('users', opts.users, 1);
const DOWNLOADS = count('downloads', opts.downloads ?? String(FILES * 5));
const TAGS = Math.min(count('tags', opts.tags, 1), TAG_BASES.length * (TAG_QUALIFIERS.length + 1));
const BLOBS = count('blobs', opts.blobs, 1);
const PASSWORD = 'cabinet seed password';

// The same --seed gives the same library.
const random = mulberry32(count('seed', opts.seed) >>> 0 || 1);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

/** Samples 0..n-1 with probability ∝ 1/(rank+1)^s. */
function zipf(n: number, s: number): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cumulative[i] = total += 1 / Math.pow(i + 1, s);
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const capitalize = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
const extWeights = zipfFromWeights(EXTENSIONS.map((e) => e[3]));
function zipfFromWeights(weights: number[]): () => number {
  const total = weights.reduce((a, b) => a + b, 0);
  return () => {
    let x = random() * total;
    for (let i = 0; i < weights.length; i++) if ((x -= weights[i]!) < 0) return i;
    return weights.length - 1;
  };
}

function fileName(ext: string): string {
  const r = random();
  if (r < 0.08 && (ext === 'jpg' || ext === 'png')) {
    return `IMG_${String(Math.floor(random() * 10000)).padStart(4, '0')}.${ext}`;
  }
  const words = Array.from({ length: 2 + Math.floor(random() * 3) }, () => pick(WORDS));
  if (r < 0.45) return `${capitalize(words[0]!)} ${words.slice(1).join(' ')}.${ext}`;
  if (r < 0.7) {
    const year = 2019 + Math.floor(random() * 8);
    const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
    return `${words.join('-')}-${year}-${month}.${ext}`;
  }
  if (r < 0.85) return `${words.join('_')}_v${1 + Math.floor(random() * 5)}.${ext}`;
  return `${words.map(capitalize).join(' ')} (${1 + Math.floor(random() * 20)}).${ext}`;
}

function tagNames(n: number): string[] {
  const names: string[] = [];
  for (const qualifier of [null, ...TAG_QUALIFIERS]) {
    for (const base of TAG_BASES) {
      if (names.length === n) return names;
      names.push(qualifier ? `${base} ${qualifier}` : base);
    }
  }
  return names;
}

const log = (message: string) => console.error(`[seed ${elapsed()}] ${message}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

/**
 * Runs `write` in `trx` with the triggers of `downloads` off. SQLite cannot turn a trigger off:
 * they are dropped and made again from their own SQL, in the same transaction, so a failure
 * leaves them as they were.
 */
async function withoutDownloadTriggers(
  trx: Executor,
  dialect: Dialect,
  write: () => Promise<void>,
) {
  if (dialect === 'postgres') {
    await sql`alter table downloads disable trigger user`.execute(trx);
    await write();
    await sql`alter table downloads enable trigger user`.execute(trx);
    return;
  }
  const { rows: triggers } = await sql<{ name: string; sql: string }>`
    select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'downloads'`.execute(
    trx,
  );
  for (const t of triggers) await sql`drop trigger ${sql.id(t.name)}`.execute(trx);
  await write();
  for (const t of triggers) await sql.raw(t.sql).execute(trx);
}

async function inBatches<T>(
  db: Db,
  rows: number,
  batch: number,
  perTransaction: number,
  insert: (trx: Db, from: number, to: number) => Promise<T>,
  label: string,
) {
  for (let t = 0; t < rows; t += perTransaction) {
    const end = Math.min(rows, t + perTransaction);
    await db.transaction().execute(async (trx) => {
      for (let b = t; b < end; b += batch) await insert(trx as Db, b, Math.min(end, b + batch));
    });
    if (rows > perTransaction)
      log(`${label}: ${end.toLocaleString('en')} / ${rows.toLocaleString('en')}`);
  }
}

const config = cliConfig();
const connection = openDatabase(config.database);
const { db, dialect } = connection;
try {
  await migrateToLatest(db);
  const storage = await createStorage(config.storage);
  const now = Date.now();
  const YEAR = 365 * 24 * 3600 * 1000;
  const run = randomBytes(3).toString('hex');

  // Users: the first of an empty library is the admin, as with sign-up.
  const firstUser = !(await db.selectFrom('users').select('id').limit(1).executeTakeFirst());
  const passwordHash = await hashPassword(PASSWORD);
  const userIds: number[] = [];
  const emails: string[] = [];
  for (let b = 0; b < USERS; b += 1000) {
    const rows = Array.from({ length: Math.min(1000, USERS - b) }, (_, k) => {
      const i = b + k;
      const first = capitalize(pick(WORDS.filter((w) => /^[a-z]+$/.test(w))));
      const email = `${first.toLowerCase()}.${i}.${run}@seed.example`;
      emails.push(email);
      return {
        email,
        name: `${first} ${capitalize(pick(WORDS))}`,
        password_hash: passwordHash,
        role: firstUser && i === 0 ? ('ADMIN' as const) : ('USER' as const),
        created_at: now - YEAR * 2 + Math.floor(random() * YEAR),
      };
    });
    const inserted = await db
      .insertInto('users')
      .values(rows.map((r) => ({ ...r, name_sort: sortKey(r.name) })))
      .returning('id')
      .execute();
    userIds.push(...inserted.map((r) => r.id));
  }
  log(`${USERS.toLocaleString('en')} users`);

  // Tags: four type tags (as uploads without tags get) plus topical ones with Zipf popularity.
  const typeTagNames = ['Image', 'Video', 'Audio', 'Other'];
  const topical = tagNames(TAGS).filter((n) => !typeTagNames.includes(n));
  const allTagNames = [...typeTagNames, ...topical];
  await db
    .insertInto('tags')
    .values(
      allTagNames.map((name) => ({
        name,
        name_key: name.toLowerCase(),
        name_sort: sortKey(name),
        created_at: now,
      })),
    )
    .onConflict((oc) => oc.column('name_key').doNothing())
    .execute();
  const tagRows = await db
    .selectFrom('tags')
    .select(['id', 'name_key'])
    .where(
      'name_key',
      'in',
      allTagNames.map((n) => n.toLowerCase()),
    )
    .execute();
  const tagId = new Map(tagRows.map((r) => [r.name_key, r.id]));
  const typeTagIds = typeTagNames.map((n) => tagId.get(n.toLowerCase())!);
  const topicalIds = topical.map((n) => tagId.get(n.toLowerCase())!);
  log(`${allTagNames.length} tags`);

  // Blobs: small text documents, written through the storage driver once the files that use
  // them are known (one no file uses would be an orphan the doctor reports).
  const blobs: { bytes: Buffer; sha256: string; size: number; refs: number }[] = [];
  for (let i = 0; i < BLOBS; i++) {
    const lines = Array.from(
      { length: 3 + Math.floor(random() * 40) },
      () => `${Array.from({ length: 6 + Math.floor(random() * 8) }, () => pick(WORDS)).join(' ')}.`,
    );
    const bytes = Buffer.from(`Cabinet seed document ${i}\n\n${lines.join('\n')}\n`);
    blobs.push({
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      refs: 0,
    });
  }

  // Files, in memory first: ids, names, owners, tags; then downloads, which fix the counters.
  const maxFile = await db
    .selectFrom('files')
    .select((eb) => eb.fn.max<number>('id').as('id'))
    .executeTakeFirst();
  const firstFileId = Number(maxFile?.id ?? 0) + 1;
  const owner = zipf(userIds.length, 1.0);
  const topicalTag = zipf(topicalIds.length, 1.1);
  const files = Array.from({ length: FILES }, () => {
    const [ext, mime, typeTag] = EXTENSIONS[extWeights()]!;
    const blob = Math.floor(random() * blobs.length);
    blobs[blob]!.refs++;
    const tags = new Set([typeTagIds[typeTagNames.indexOf(typeTag)]!]);
    const extra = random() < 0.15 ? 0 : 1 + Math.floor(random() * 3);
    for (let k = 0; k < extra; k++) tags.add(topicalIds[topicalTag()]!);
    const name = fileName(ext);
    return {
      name,
      mime,
      blob,
      owner: userIds[owner()]!,
      hidden: random() < 0.05,
      created_at: now - Math.floor(random() * 2 * YEAR),
      tags: [...tags],
      downloads: 0,
      lastDownload: null as number | null,
    };
  });
  const used = blobs.filter((b) => b.refs > 0);
  for (const { bytes } of used) {
    const temp = await storage.putTemp(Readable.from([bytes]), { maxBytes: bytes.length + 1 });
    await storage.commit(temp.tempKey, temp.sha256);
  }
  log(`${used.length.toLocaleString('en')} blobs in storage`);
  const uploads = new Map<number, number>();
  for (const f of files) uploads.set(f.owner, (uploads.get(f.owner) ?? 0) + 1);

  // Downloads: a random permutation of the files ranked by Zipf popularity; times over the last
  // year, never before the file existed.
  const rank = Uint32Array.from({ length: FILES }, (_, i) => i);
  for (let i = FILES - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rank[i], rank[j]] = [rank[j]!, rank[i]!];
  }
  const popular = FILES ? zipf(FILES, 0.8) : () => 0;
  const downloader = zipf(userIds.length, 0.7);
  const dlFile = new Uint32Array(DOWNLOADS);
  const dlUser = new Uint32Array(DOWNLOADS);
  const dlAt = new Float64Array(DOWNLOADS);
  const userDownloads = new Map<number, number>();
  for (let i = 0; i < DOWNLOADS && FILES; i++) {
    const f = rank[popular()]!;
    const file = files[f]!;
    const since = Math.max(file.created_at, now - YEAR);
    const at = since + Math.floor(random() * (now - since));
    const user = userIds[downloader()]!;
    dlFile[i] = f;
    dlUser[i] = user;
    dlAt[i] = at;
    file.downloads++;
    if (file.lastDownload === null || at > file.lastDownload) file.lastDownload = at;
    userDownloads.set(user, (userDownloads.get(user) ?? 0) + 1);
  }
  // Inserted in time order, as they happen: the hourly counters are then touched a few rows per
  // batch instead of thousands (on PostgreSQL every touch leaves a dead row version behind).
  const byTime = Uint32Array.from({ length: DOWNLOADS }, (_, i) => i).sort(
    (a, b) => dlAt[a]! - dlAt[b]!,
  );
  log('library laid out in memory');

  await db.transaction().execute(async (trx) => {
    for (const b of used) {
      await trx
        .insertInto('blobs')
        .values({ sha256: b.sha256, size: b.size, ref_count: b.refs, created_at: now })
        .onConflict((oc) =>
          oc.column('sha256').doUpdateSet({ ref_count: sql<number>`blobs.ref_count + ${b.refs}` }),
        )
        .execute();
    }
  });

  await inBatches(
    db,
    FILES,
    2000,
    50_000,
    async (trx, from, to) => {
      await trx
        .insertInto('files')
        .values(
          files.slice(from, to).map((f, k) => ({
            id: firstFileId + from + k,
            name: f.name,
            name_sort: sortKey(f.name),
            original_name: f.name,
            size: blobs[f.blob]!.size,
            mime_type: f.mime,
            sha256: blobs[f.blob]!.sha256,
            status: f.hidden ? ('HIDDEN' as const) : ('ACTIVE' as const),
            uploaded_by: f.owner,
            created_at: f.created_at,
            updated_at: f.created_at,
            download_count: f.downloads,
            last_downloaded_at: f.lastDownload,
          })),
        )
        .execute();
    },
    'files',
  );
  if (dialect === 'postgres') {
    await sql`select setval(pg_get_serial_sequence('files', 'id'), (select max(id) from files))`.execute(
      db,
    );
  }

  const links: { file_id: number; tag_id: number }[] = [];
  files.forEach((f, i) => {
    for (const t of f.tags) links.push({ file_id: firstFileId + i, tag_id: t });
  });
  await inBatches(
    db,
    links.length,
    10_000,
    100_000,
    async (trx, from, to) => {
      await trx.insertInto('file_tags').values(links.slice(from, to)).execute();
    },
    'tag links',
  );
  // PostgreSQL: the links' moves into the tags' rollups, folded before any download is written
  // without the files' row locks the server's downloads take (modules/stats/tag-moves.ts): a
  // running server's fold then never meets these inserts halfway.
  await foldTagLinkMoves(db, dialect);

  const downloadRows = (from: number, to: number) => {
    const rows = [];
    for (let k = from; k < to; k++) {
      const i = byTime[k]!;
      rows.push({
        file_id: firstFileId + dlFile[i]!,
        file_name: files[dlFile[i]!]!.name,
        user_id: dlUser[i]!,
        at: dlAt[i]!,
      });
    }
    return rows;
  };
  // The downloads triggers count each row into every rollup as it is written (on PostgreSQL,
  // probing each statement's files' links one by one: 40–90 s per 100,000 downloads here; on
  // SQLite ~10 upserts a row). So the seed writes the downloads with those triggers off and adds
  // them to the rollups once, grouped, in the same transaction: the table stays locked until
  // then, so a server beside it waits instead of writing uncounted downloads.
  const { next } = await sql<{ next: number }>`
    select coalesce(max(id), 0) + 1 as next from downloads`
    .execute(db)
    .then((r) => r.rows[0]!);
  await db.transaction().execute(async (trx) => {
    await withoutDownloadTriggers(trx, dialect, async () => {
      for (let b = 0; b < DOWNLOADS; b += 5000) {
        await trx
          .insertInto('downloads')
          .values(downloadRows(b, Math.min(DOWNLOADS, b + 5000)))
          .execute();
        if ((b + 5000) % 500_000 === 0) log(`downloads: ${(b + 5000).toLocaleString('en')}`);
      }
      log('downloads: rollups');
      await addToRollups(trx, dialect, Number(next));
    });
  });

  await db.transaction().execute(async (trx) => {
    for (const id of userIds) {
      await trx
        .updateTable('users')
        .set({ upload_count: uploads.get(id) ?? 0, download_count: userDownloads.get(id) ?? 0 })
        .where('id', '=', id)
        .execute();
    }
  });

  // Fresh statistics for the planners; on PostgreSQL also the visibility map, which index-only
  // scans (counts, deferred pages) depend on.
  log(dialect === 'postgres' ? 'vacuum analyze' : 'analyze');
  if (dialect === 'postgres') {
    // The trigger-kept counter tables took one row version per batch: compact them.
    await sql`vacuum full download_hours, tags, file_totals`.execute(db);
  }
  await sql`${sql.raw(dialect === 'postgres' ? 'vacuum analyze' : 'analyze')}`.execute(db);
  log(
    `done: ${FILES.toLocaleString('en')} files, ${links.length.toLocaleString('en')} tag links, ` +
      `${DOWNLOADS.toLocaleString('en')} downloads, ${USERS.toLocaleString('en')} users`,
  );
  console.log(
    firstUser
      ? `Sign in as ${emails[0]} (admin) or any seeded user with the password "${PASSWORD}".`
      : `Seeded users sign in with the password "${PASSWORD}", e.g. ${emails[0]}.`,
  );
} finally {
  await connection.close();
}
