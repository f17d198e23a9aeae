import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/connection.js';
import { LocalStorage } from '../src/storage/local.js';
import { createPostgresDatabase, startTestServer, type TestServer } from './harness.js';
import { eventually, uploadOk } from './uploads.js';

// Instance leases (modules/maintenance/lease.ts): what a crashed process left behind is
// recognised by the instance its temp keys and blob intents name, not by its age. The crash is
// staged by writing its leftovers directly (chaos.test.ts kills real processes).

const DEAD = 'dead0000dead0000';
const ELSEWHERE = 'a11ea11ea11ea11e';

describe('instance leases and crash leftovers', () => {
  let dir: string;
  let database: { url: string; drop(): Promise<void> } | null;
  let env: Record<string, string>;
  const servers: TestServer[] = [];
  const filesDir = () => path.join(dir, 'files');
  const tmpFile = (key: string) => path.join(filesDir(), 'tmp', `${key}.part`);
  const exists = (file: string) =>
    fs.access(file).then(
      () => true,
      () => false,
    );

  const start = async (extra: Record<string, string> = {}) => {
    const t = await startTestServer({ ...env, ...extra });
    servers.push(t);
    return t;
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-leases-'));
    database = await createPostgresDatabase();
    env = {
      DATABASE_URL: database?.url ?? `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
      FILES_DIR: filesDir(),
    };
  });

  afterAll(async () => {
    for (const t of servers) await t.close().catch(() => undefined);
    await database?.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('holds a lease while running and gives it up on close', async () => {
    const t = await start();
    const db = t.server.connection.db;
    const leases = await db.selectFrom('instances').selectAll().execute();
    expect(leases).toHaveLength(1);
    expect(Number(leases[0]!.expires_at)).toBeGreaterThan(Date.now());
    await t.close();
    // Our database outlives the harness's server: look through the next one.
    const again = await start();
    const rows = await again.server.connection.db.selectFrom('instances').select('id').execute();
    expect(rows.map((r) => r.id)).not.toContain(leases[0]!.id);
    await again.close();
  });

  it('removes the temp uploads and unfinished blob commits of a dead instance at start', async () => {
    const first = await start();
    const admin = await first.signUp('admin@example.com');
    const kept = await uploadOk(first, randomBytes(5000), {
      token: admin.token,
      filename: 'k.bin',
    });
    await first.close();

    // What a process killed mid-upload and mid-commit leaves: its lease row (lapsed), a temp
    // object, an object committed to storage whose rows never came, and intents for it and for a
    // blob whose transaction did commit.
    const store = new LocalStorage(filesDir());
    const orphanBytes = randomBytes(3000);
    const orphan = await store.putTemp(Readable.from([orphanBytes]), { maxBytes: 1 << 20 });
    await store.commit(orphan.tempKey, orphan.sha256);
    const deadTemp = `${DEAD}-${randomBytes(16).toString('hex')}`;
    const oldLegacy = randomBytes(16).toString('hex');
    const freshLegacy = randomBytes(16).toString('hex');
    for (const key of [deadTemp, oldLegacy, freshLegacy]) {
      await fs.writeFile(tmpFile(key), 'half an upload');
    }
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await fs.utimes(tmpFile(oldLegacy), twoDaysAgo, twoDaysAgo);

    const connection = openDatabase(loadConfig(env, dir).database);
    await connection.db
      .insertInto('instances')
      .values({ id: DEAD, started_at: 1, heartbeat_at: 1, expires_at: 2 })
      .execute();
    await connection.db
      .insertInto('blob_intents')
      .values([
        { instance_id: DEAD, sha256: orphan.sha256, created_at: 1 },
        { instance_id: DEAD, sha256: kept.sha256, created_at: 1 },
      ])
      .execute();
    await connection.close();

    const after = await start();
    const adb = after.server.connection.db;
    expect(await exists(tmpFile(deadTemp))).toBe(false);
    expect(await exists(tmpFile(oldLegacy))).toBe(false);
    expect(await exists(tmpFile(freshLegacy))).toBe(true);
    expect(await store.exists(orphan.sha256)).toBe(false);
    expect(await store.exists(kept.sha256)).toBe(true);
    expect(await adb.selectFrom('blob_intents').selectAll().execute()).toEqual([]);
    const ids = (await adb.selectFrom('instances').select('id').execute()).map((r) => r.id);
    expect(ids).toHaveLength(1);
    expect(ids).not.toContain(DEAD);

    const login = await after.gql<{ login: { token: string } }>(
      `mutation { login(email: "admin@example.com", password: "correct horse battery") { token } }`,
    );
    const res = await fetch(`${after.url}/files/${kept.id}/download`, {
      headers: { authorization: `Bearer ${login.data!.login.token}` },
    });
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(kept.sha256);
    await fs.rm(tmpFile(freshLegacy));
    await after.close();
  });

  // Several instances share PostgreSQL: one that crashes while others run is swept once its lease
  // lapsed, by a periodic sweep; a live instance's uploads are never touched.
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'sweeps a lapsed lease periodically and leaves live ones alone',
    async () => {
      const t = await start({ INSTANCE_LEASE_SECONDS: '1' });
      const db = t.server.connection.db;
      const deadTemp = `${DEAD}-${randomBytes(16).toString('hex')}`;
      const liveTemp = `${ELSEWHERE}-${randomBytes(16).toString('hex')}`;
      await db
        .insertInto('instances')
        .values([
          { id: DEAD, started_at: 1, heartbeat_at: 1, expires_at: Date.now() + 500 },
          {
            id: ELSEWHERE,
            started_at: 1,
            heartbeat_at: 1,
            expires_at: Date.now() + 3_600_000,
          },
        ])
        .execute();
      await fs.writeFile(tmpFile(deadTemp), 'half an upload');
      await fs.writeFile(tmpFile(liveTemp), 'still streaming');
      await eventually(async () => !(await exists(tmpFile(deadTemp))), 10_000);
      await eventually(
        async () =>
          (await db.selectFrom('instances').select('id').where('id', '=', DEAD).execute())
            .length === 0,
        10_000,
      );
      expect(await exists(tmpFile(liveTemp))).toBe(true);
      await db.deleteFrom('instances').where('id', '=', ELSEWHERE).execute();
      await fs.rm(tmpFile(liveTemp));
      await t.close();
    },
  );
});
