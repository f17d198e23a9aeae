import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dialect } from '../src/db/connection.js';
import type { Db } from '../src/db/database.js';
import { runDoctor, type DoctorReport } from '../src/modules/maintenance/doctor.js';
import { ROLLUP_TABLES, rollupDrift } from '../src/modules/maintenance/rollup-drift.repository.js';
import { foldTagLinkMoves } from '../src/modules/stats/tag-moves.js';
import type { TestServer } from './harness.js';
import { runDoctorCli, startDoctorServer, type DoctorSetup } from './doctor-setup.js';
import { uploadOk, type UploadedFile } from './uploads.js';

// The doctor's statistics check: every rollup table (download_totals, download_days,
// download_tag_hours, a tag's users, pairs of tags) against a recount of the downloads. It must not see drift where there is none (on PostgreSQL a link's
// move may wait to be folded), must name each damaged row, and --repair must recount them.

const HOUR = 3_600_000;

const rollupKinds = (report: DoctorReport) =>
  report.checks
    .find((c) => c.id === 'rollups')!
    .findings.map((f) => f.kind)
    .sort();

describe('doctor: statistics rollups', () => {
  let setup: DoctorSetup;
  let t: TestServer;
  let db: Db;
  let dialect: Dialect;
  let admin: { token: string; id: string };
  let user: { token: string; id: string };
  let files: UploadedFile[];
  const doctor = (repair = false) =>
    runDoctor({ db, dialect, storage: t.server.storage }, { repair });
  const tagId = async (name: string) =>
    Number(
      (await db.selectFrom('tags').select('id').where('name', '=', name).executeTakeFirstOrThrow())
        .id,
    );

  beforeAll(async () => {
    setup = await startDoctorServer('cabinet-doctor-rollups-');
    t = setup.t;
    db = t.server.connection.db;
    dialect = t.server.connection.dialect;
    admin = await t.signUp('admin@example.com');
    user = await t.signUp('user@example.com');
    files = [
      await uploadOk(t, 'first', { token: admin.token, tags: ['red', 'blue'] }),
      await uploadOk(t, 'second', { token: user.token, tags: ['red'] }),
      await uploadOk(t, 'third', { token: user.token }),
    ];
    for (const [f, token] of [
      [files[0]!, user.token],
      [files[0]!, admin.token],
      [files[1]!, user.token],
      [files[2]!, user.token],
      [files[2]!, admin.token],
    ] as const) {
      const res = await fetch(`${t.url}/files/${f.id}/download`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
    }
    // A retag after the downloads: on PostgreSQL its moves wait for the fold.
    const retag = await t.gql(
      `mutation($ids: [ID!]!) { tagFiles(ids: $ids, add: ["green"], remove: ["red"]) { id } }`,
      { ids: [files[1]!.id, files[2]!.id] },
      { token: admin.token },
    );
    expect(retag.errors).toBeUndefined();
  });

  afterAll(async () => {
    await setup?.close();
  });

  it('finds no drift after ordinary use, even while a link waits to be folded', async () => {
    expect(rollupKinds(await doctor())).toEqual([]);
    // A link added in a transaction that has not committed: its move cannot have been folded,
    // so the tag's rollups lack the file's downloads, and the check must count it out too.
    const blue = await tagId('blue');
    await db
      .transaction()
      .execute(async (trx) => {
        await trx
          .insertInto('file_tags')
          .values({ file_id: Number(files[2]!.id), tag_id: blue })
          .execute();
        for (const table of ROLLUP_TABLES) {
          expect(await rollupDrift(trx, dialect, table, { limit: 10 })).toEqual([]);
        }
        throw new Error('roll back');
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.message === 'roll back')) throw err;
      });
  });

  it('names each damaged row and recounts it with --repair', async () => {
    const [red, blue] = [await tagId('red'), await tagId('blue')];
    const userId = Number(user.id);
    const firstFile = Number(files[0]!.id);
    // On PostgreSQL the links of the uploads may still wait to be folded: fold them, so that the
    // tag has its day rows to damage.
    await foldTagLinkMoves(db, dialect);
    const damaged = await sql`update download_days set downloads = downloads + 1
      where kind = 'tag' and id = ${red}`.execute(db);
    expect(Number(damaged.numAffectedRows)).toBeGreaterThan(0);
    await sql`delete from download_totals where kind = 'user' and id = ${userId}`.execute(db);
    await sql`update download_totals set downloads = downloads - 1
      where kind = 'file' and id = ${firstFile}`.execute(db);
    // A tag's hour that no download made (a year ago).
    const hour = Date.now() - (Date.now() % HOUR) - 365 * 24 * HOUR;
    await sql`insert into download_tag_hours (hour, tag_id, downloads) values (${hour}, ${blue}, 5)`.execute(
      db,
    );
    // A tag's downloads by a user (today's row gone), and a pair's total (red with blue: the
    // first file, downloaded twice).
    const gone = await sql`delete from download_user_tag_days
      where tag_id = ${red} and user_id = ${userId}`.execute(db);
    expect(Number(gone.numAffectedRows)).toBe(1);
    await sql`update download_tag_pairs set downloads = downloads + 2
      where tag_id = ${red} and other_id = ${blue}`.execute(db);

    const found = await doctor();
    expect(rollupKinds(found)).toEqual([
      'download_days.tag',
      'download_tag_hours.tag',
      'download_tag_pairs.tag',
      'download_totals.file',
      'download_totals.user',
      'download_user_tag_days.tag',
    ]);
    const messages = found.checks.find((c) => c.id === 'rollups')!.findings.map((f) => f.message);
    expect(messages).toContain(`download_totals user ${userId}: 0, downloads 3`);
    expect(messages).toContain(`download_totals file ${firstFile}: 1, downloads 2`);
    expect(messages).toContain(`download_tag_pairs tag ${red} tag ${blue}: 4, downloads 2`);
    expect(messages.find((m) => m.startsWith('download_user_tag_days'))).toMatch(
      new RegExp(`^download_user_tag_days tag ${red} user ${userId} \\S+: 0, downloads 1$`),
    );
    expect(found.remaining).toBe(6);

    const repaired = await doctor(true);
    expect(repaired.repaired).toBe(6);
    expect(repaired.remaining).toBe(0);
    expect(rollupKinds(await doctor())).toEqual([]);
    for (const table of ROLLUP_TABLES) {
      expect(await rollupDrift(db, dialect, table, { limit: 10 })).toEqual([]);
    }

    // The statistics read the repaired rows: every download, by tag as the links are now.
    const stats = await t.gql<{
      downloadStats: { total: number; topTags: { tag: { name: string }; count: number }[] };
    }>(
      `query($from: DateTime!, $to: DateTime!) {
        downloadStats(from: $from, to: $to, interval: DAY) {
          total topTags(limit: 5) { tag { name } count } } }`,
      {
        from: new Date(Date.now() - 7 * 24 * HOUR).toISOString(),
        to: new Date(Date.now() + 24 * HOUR).toISOString(),
      },
      { token: admin.token },
    );
    expect(stats.errors).toBeUndefined();
    expect(stats.data?.downloadStats.total).toBe(5);
    expect(
      Object.fromEntries(stats.data!.downloadStats.topTags.map((r) => [r.tag.name, r.count])),
    ).toEqual({ red: 2, blue: 2, green: 3, Other: 2 });
  });

  it('lists the first 1,000 rows that differ, whole in --json, and a second repair takes the rest', async () => {
    // A repair recounts every row of the ids it lists: 1,000 rows of one tag would all be
    // repaired at once, so these are rows of 1,500 ids.
    // 1,500 files that were never downloaded (nor exist) with a download each, of all time and
    // on a day.
    for (let i = 0; i < 1500; i += 100) {
      const ids = Array.from({ length: 100 }, (_, j) => 1_000_000 + i + j);
      await sql`insert into download_totals (kind, id, downloads) values ${sql.join(
        ids.map((id) => sql`('file', ${id}, 1)`),
      )}`.execute(db);
      await sql`insert into download_days (kind, id, day, downloads) values ${sql.join(
        ids.map((id) => sql`('file', ${id}, 0, 1)`),
      )}`.execute(db);
    }
    // The real command, its report read through a pipe as a script would.
    const run = await runDoctorCli(setup.env, '--json');
    expect(run.code).toBe(1);
    expect(run.stdout.length).toBeGreaterThan(65_536);
    const report = JSON.parse(run.stdout) as DoctorReport;
    const rollups = report.checks.find((c) => c.id === 'rollups')!;
    expect(rollups.findings).toHaveLength(2000);
    expect(rollups.notes.join('\n')).toContain('only the first 1000 rows');

    expect((await doctor(true)).repaired).toBe(2000);
    const second = await doctor(true);
    expect(rollupKinds(second)).toEqual([
      ...Array<string>(500).fill('download_days.file'),
      ...Array<string>(500).fill('download_totals.file'),
    ]);
    expect(second.remaining).toBe(0);
    expect(rollupKinds(await doctor())).toEqual([]);
  });
});
