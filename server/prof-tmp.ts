import Database from 'better-sqlite3';
const db = new Database('/tmp/hbulk/s.sqlite');
db.pragma('foreign_keys = ON');
const ids = (
  db
    .prepare('select id from files order by id limit 1000 offset ?')
    .all(Number(process.argv[2] ?? 0)) as { id: number }[]
).map((r) => r.id);
const list = ids.join(',');
const t = (label: string, sql: string) => {
  const s = performance.now();
  const r = db.prepare(sql).run();
  console.log(label.padEnd(28), (performance.now() - s).toFixed(1), 'ms', r.changes);
};
for (let round = 0; round < 2; round++) {
  db.exec('begin');
  t('hide', `update files set status='HIDDEN', updated_at=1 where id in (${list})`);
  db.exec('rollback');
  db.exec('begin');
  t(
    'tag insert',
    `insert into file_tags (file_id, tag_id) select id, (select max(id) from tags) from files where id in (${list}) and id not in (select file_id from file_tags where tag_id = (select max(id) from tags))`,
  );
  t('touch updated_at', `update files set updated_at=2 where id in (${list})`);
  db.exec('rollback');
  db.exec('begin');
  t(
    'downloads aside',
    `update downloads set trashed_file_id = file_id, file_id = null where file_id in (${list})`,
  );
  t('links delete', `delete from file_tags where file_id in (${list})`);
  t('files delete', `delete from files where id in (${list})`);
  db.exec('rollback');
}
