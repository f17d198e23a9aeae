// `npm run bench [-- name…]`: runs the benchmarks in order, or only the named ones. Each module
// exports `run()`, which prints its own table. Add a bench with one line here.
const benches: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  transfer: () => import('./transfer.js'),
  queries: () => import('./queries.js'),
  startup: () => import('./startup.js'),
  'share-zip': () => import('./share-zip.js'),
  audit: () => import('./audit.js'),
  bulk: () => import('./bulk.js'),

  previews: () => import('./previews.js'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  const load = benches[name];
  if (!load) {
    console.error(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  await (await load()).run();
}
