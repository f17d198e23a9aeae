import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { createPostgresDatabase } from './harness.js';
import { uploadForm } from './uploads.js';

// A share link's download limit across two server instances sharing one database and one blob
// store (PostgreSQL with TEST_DATABASE_URL, else one SQLite file): each has its own connection
// pool, so only the database can keep the count. 50 downloads at once, spread over both, of a
// link allowing 10: exactly 10 get the bytes, and exactly 10 history rows exist.

const DATABASE = process.env.TEST_DATABASE_URL ? 'postgresql' : 'sqlite';

describe(`share link limit across two instances (${DATABASE})`, () => {
  let dir: string;
  let database: { url: string; drop(): Promise<void> } | null = null;
  let servers: RunningServer[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cabinet-share-'));
    database = await createPostgresDatabase();
    const config = loadConfig(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        DATABASE_URL: database?.url ?? `sqlite:${path.join(dir, 'cabinet.sqlite')}`,
        FILES_DIR: path.join(dir, 'files'),
        WEB_DIR: '',
        LOG_LEVEL: 'silent',
      },
      dir,
    );
    // One after the other: the second finds the database migrated.
    for (let i = 0; i < 2; i++) servers.push(await startServer(config, createLogger('silent')));
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) await s.close();
    servers = [];
    await database?.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('lets exactly maxDownloads of 50 simultaneous downloads through', async () => {
    const [a, b] = servers.map((s) => s.url) as [string, string];
    const gql = async <T>(url: string, query: string, variables: object, token?: string) => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as { data: T; errors?: unknown };
    };
    const signUp = await gql<{ register: { token: string } }>(
      a,
      `mutation { register(email: "owner@example.com", name: "Owner", password: "correct horse battery") { token } }`,
      {},
    );
    const token = signUp.data.register.token;
    const uploaded = await fetch(`${b}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: uploadForm('limited bytes', { filename: 'limited.txt' }),
    });
    const fileId = ((await uploaded.json()) as { data: { uploadFile: { id: string } } }).data
      .uploadFile.id;
    const created = await gql<{ createShareLink: { id: string; url: string } }>(
      a,
      `mutation($f: [ID!]!) { createShareLink(fileIds: $f, maxDownloads: 10) { id url } }`,
      { f: [fileId] },
      token,
    );
    const linkPath = new URL(created.data.createShareLink.url).pathname;

    const statuses = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await fetch(`${i % 2 ? a : b}${linkPath}/files/${fileId}/download`);
        const body = await res.text();
        if (res.status === 200) expect(body).toBe('limited bytes');
        return res.status;
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 404)).toHaveLength(40);

    const counts = await gql<{
      shareLinks: { edges: { node: { downloadCount: number } }[] };
      file: { downloadCount: number };
      downloadStats: { total: number; viaLinks: number };
    }>(
      b,
      `query($f: ID!) { shareLinks { edges { node { downloadCount } } }
        file(id: $f) { downloadCount } downloadStats(fileId: $f) { total viaLinks } }`,
      { f: fileId },
      token,
    );
    expect(counts.data).toEqual({
      shareLinks: { edges: [{ node: { downloadCount: 10 } }] },
      file: { downloadCount: 10 },
      downloadStats: { total: 10, viaLinks: 10 },
    });
  }, 60_000);
});
