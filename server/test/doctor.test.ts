import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/database.js';
import type { Dialect } from '../src/db/connection.js';
import { runDoctor, type DoctorReport } from '../src/modules/maintenance/doctor.js';
import type { StorageDriver } from '../src/storage/storage.js';
import type { TestServer } from './harness.js';
import { runDoctorCli, startDoctorServer, type DoctorSetup } from './doctor-setup.js';
import { uploadOk, type UploadedFile } from './uploads.js';

// npm run doctor (modules/maintenance/doctor.ts) against a real server's data: clean after
// ordinary use, then damaged directly in the database and the store, as a bug, a crash or a
// careless operator would; each damage must be reported, --repair must fix what can be fixed
// without guessing, and a second run must be clean.

const DEAD = 'dead0000dead0000';

const kinds = (report: DoctorReport) =>
  [...new Set(report.checks.flatMap((c) => c.findings.map((f) => f.kind)))].sort();

describe('doctor', () => {
  let t: TestServer;
  let dir: string;
  let setup: DoctorSetup;
  let db: Db;
  let dialect: Dialect;
  let storage: StorageDriver;
  let admin: { token: string; id: string };
  let files: UploadedFile[];
  const doctor = (repair = false) => runDoctor({ db, dialect, storage }, { repair });

  const download = async (id: string, token: string) => {
    const res = await fetch(`${t.url}/files/${id}/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
  };

  const cli = (...args: string[]) => runDoctorCli(setup.env, ...args);

  beforeAll(async () => {
    setup = await startDoctorServer('cabinet-doctor-');
    ({ t, dir } = setup);
    db = t.server.connection.db;
    dialect = t.server.connection.dialect;
    storage = t.server.storage;

    admin = await t.signUp('admin@example.com');
    const user = await t.signUp('user@example.com');
    const same = randomBytes(20_000);
    files = [
      await uploadOk(t, randomBytes(10_000), { token: admin.token, tags: ['red', 'blue'] }),
      await uploadOk(t, same, { token: user.token, tags: ['red'] }),
      await uploadOk(t, same, { token: admin.token, filename: 'copy.bin' }),
      await uploadOk(t, randomBytes(3_000), { token: user.token, tags: ['blue'] }),
    ];
    for (const f of [files[0]!, files[0]!, files[1]!, files[3]!]) await download(f.id, user.token);
    await download(files[2]!.id, admin.token);
  });

  afterAll(async () => {
    await setup?.close();
  });

  it('finds nothing wrong after ordinary use', async () => {
    const report = await doctor();
    expect(kinds(report)).toEqual([]);
    expect(report.remaining).toBe(0);
  });

  it('reports each kind of damage, repairs what it can, and a second run is clean', async () => {
    const [a, b, , d] = files.map((f) => Number(f.id));
    // Counters drifted by hand (as a bug or an old restore would leave them).
    await sql`update files set download_count = download_count + 5 where id = ${a}`.execute(db);
    await sql`update files set last_downloaded_at = 1 where id = ${b}`.execute(db);
    await sql`update users set download_count = 42 where email = 'user@example.com'`.execute(db);
    await sql`update users set upload_count = 0 where email = 'user@example.com'`.execute(db);
    await sql`update users set used_bytes = used_bytes + 7 where email = 'user@example.com'`.execute(
      db,
    );
    await sql`update users set uploads_hidden = 1 where email = 'admin@example.com'`.execute(db);
    await sql`update tags set files_active = files_active + 3 where name = 'red'`.execute(db);
    await sql`update file_totals set files = files + 1 where status = 'HIDDEN'`.execute(db);
    await sql`update blobs set ref_count = 7 where sha256 = ${files[1]!.sha256}`.execute(db);
    await sql`update download_hours set downloads = downloads + 2`.execute(db);
    await sql`update file_tags set active = 0 where file_id = ${d}`.execute(db);
    // The trigger-kept search index (SQLite FTS5 tables, PostgreSQL file_search) loses a row.
    if (dialect === 'sqlite')
      await sql`delete from files_fts_active where rowid = ${b}`.execute(db);
    else await sql`delete from file_search where id = ${b}`.execute(db);
    // A stored object no row knows, one whose row is gone (the file stays, its bytes are lost),
    // a crashed upload's temp object and a crashed commit's intent with its object.
    const orphan = await storage.putTemp(Readable.from([randomBytes(1234)]), { maxBytes: 1 << 20 });
    await storage.commit(orphan.tempKey, orphan.sha256);
    const crashed = await storage.putTemp(Readable.from([randomBytes(999)]), { maxBytes: 1 << 20 });
    await storage.commit(crashed.tempKey, crashed.sha256);
    await db
      .insertInto('blob_intents')
      .values({ instance_id: DEAD, sha256: crashed.sha256, created_at: 1 })
      .execute();
    await storage.delete(files[3]!.sha256);
    const tmp = path.join(dir, 'files', 'tmp', `${DEAD}-${randomBytes(16).toString('hex')}.part`);
    await fs.writeFile(tmp, 'half an upload');
    // A resumable upload left unfinished past its expiry while no server ran to sweep it.
    const partial = await storage.appendPartial(await storage.createPartial(), randomBytes(100));
    await db
      .insertInto('upload_sessions')
      .values({
        id: randomBytes(16).toString('hex'),
        user_id: 1,
        filename: 'left.bin',
        name: 'left.bin',
        tags: null,
        status: null,
        length: 1000,
        upload_offset: 100,
        temp_key: partial.tempKey,
        storage_state: partial.state,
        hash_state: null,
        head: '',
        file_id: null,
        created_at: 1,
        expires_at: 2,
        lock_token: null,
        locked_until: null,
      })
      .execute();
    const partialFile = path.join(dir, 'files', 'tmp', `${partial.tempKey}.upload`);
    await fs.access(partialFile);

    const found = await doctor();
    expect(kinds(found)).toEqual(
      [
        'blob_intent',
        'blob_missing',
        'blob_orphan',
        'blobs.ref_count',
        'download_hours',
        'file_tags.active',
        'file_totals',
        'files.download_count',
        'files.last_downloaded_at',
        'search_index',
        'tags.counters',
        'temp_upload',
        'upload_session',
        'users.download_count',
        'users.upload_count',
        'users.used_bytes',
      ].sort(),
    );
    expect(found.repaired).toBe(0);
    // Both counters are checked exactly: the user's upload_count and the admin's uploads_hidden.
    const uploadDrift = found.checks
      .flatMap((c) => c.findings)
      .filter((f) => f.kind === 'users.upload_count');
    expect(uploadDrift.map((f) => /"(.*?)"/.exec(f.message)?.[1]).sort()).toEqual([
      'admin@example.com',
      'user@example.com',
    ]);
    const orphanFinding = found.checks.find((c) => c.id === 'orphan-blobs')!.findings;
    expect(orphanFinding.map((f) => f.message).join('\n')).toContain(orphan.sha256);
    const missing = found.checks.find((c) => c.id === 'missing-blobs')!.findings;
    expect(missing).toHaveLength(1);
    expect(missing[0]!.message).toContain(`file(s) ${d} `);
    expect(missing[0]!.repairable).toBe(false);

    // The real command, as an operator runs it, sees the same and exits 1.
    const run = await cli('--json');
    expect(run.code).toBe(1);
    expect(kinds(JSON.parse(run.stdout) as DoctorReport)).toEqual(kinds(found));

    const repaired = await doctor(true);
    expect(repaired.problems).toBe(found.problems);
    expect(repaired.remaining).toBe(1);
    expect(await storage.exists(orphan.sha256)).toBe(false);
    expect(await storage.exists(crashed.sha256)).toBe(false);
    await expect(fs.access(tmp)).rejects.toThrow();
    await expect(fs.access(partialFile)).rejects.toThrow();

    // Only the file without bytes is left, for a person to decide; the rest is clean.
    const again = await doctor();
    expect(kinds(again)).toEqual(['blob_missing']);

    // The counters the API shows are the recounted ones.
    const res = await t.gql<{
      file: { downloadCount: number; tags: { name: string; fileCount: number }[] };
      me: { downloadCount: number };
    }>(
      `query($id: ID!) { file(id: $id) { downloadCount tags { name fileCount } } me { downloadCount } }`,
      { id: String(a) },
      { token: admin.token },
    );
    expect(res.data?.file.downloadCount).toBe(2);
    expect(res.data?.file.tags).toEqual(expect.arrayContaining([{ name: 'red', fileCount: 2 }]));

    // The operator's decision: delete the file whose bytes are gone, and empty it from the
    // trash (a trashed file still holds its blob). Then all is clean.
    const del = await t.gql(
      `mutation($id: ID!) { deleteFile(id: $id) purgeFile(id: $id) }`,
      { id: String(d) },
      {
        token: admin.token,
      },
    );
    expect(del.errors).toBeUndefined();
    expect(kinds(await doctor())).toEqual([]);
    const clean = await cli();
    expect(clean.stdout).toContain('No problems found.');
    expect(clean.code).toBe(0);
  });
});
