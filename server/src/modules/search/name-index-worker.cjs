'use strict';
// Builds the postings of the name index (name-index.ts) on a worker thread. Splitting a million
// names into their one- and two-character substrings and filing each id under them takes
// seconds of CPU; on the main thread that held every other request (/healthz included) for the
// whole build, between chunks only yielding. Here the main thread only reads the files and posts
// their lower-cased names; this thread files them and hands the postings back in two buffers
// (transferred, not copied). Plain CommonJS, like db/sqlite-read-worker.cjs, so that it loads the
// same way from TypeScript through tsx, under Vitest, and from a build.
//
// Messages in: { ids: Int32Array, names: string[] } any number of times, then { done: true }.
// Message out: { sparseKeys, offsets, sparse, denseKeys, dense, words } (see name-index.ts).
const { parentPort, workerData } = require('node:worker_threads');

/** Ids below this; a dense posting is one bit per id up to it. */
const capacity = workerData.capacity;
const words = (capacity >>> 5) + 1;

/** Per key: a growing sorted id list, until it holds more than one id in 32, then bits. */
const postings = new Map();

function add(key, id) {
  let p = postings.get(key);
  if (!p) postings.set(key, (p = { ids: new Int32Array(4), n: 0, bits: null }));
  if (p.bits) {
    p.bits[id >>> 5] |= 1 << (id & 31);
    return;
  }
  if (p.n === p.ids.length) {
    if (p.n * 32 > capacity) {
      // The bits now take less room than the list.
      p.bits = new Uint32Array(words);
      for (let i = 0; i < p.n; i++) p.bits[p.ids[i] >>> 5] |= 1 << (p.ids[i] & 31);
      p.ids = null;
      p.bits[id >>> 5] |= 1 << (id & 31);
      return;
    }
    const grown = new Int32Array(p.n * 2);
    grown.set(p.ids);
    p.ids = grown;
  }
  p.ids[p.n++] = id;
}

/** Files one name under each distinct one- and two-character substring, by code point. */
function file(id, lowered) {
  const chars = [...lowered];
  const seen = new Set(chars);
  for (let i = 0; i + 1 < chars.length; i++) seen.add(chars[i] + chars[i + 1]);
  for (const key of seen) add(key, id);
}

function pack() {
  const sparseKeys = [];
  const denseKeys = [];
  let total = 0;
  for (const [key, p] of postings) {
    if (p.bits) denseKeys.push(key);
    else {
      sparseKeys.push(key);
      total += p.n;
    }
  }
  // All sparse lists end to end, with where each starts; all dense bitsets end to end.
  const offsets = new Int32Array(sparseKeys.length + 1);
  const sparse = new Int32Array(total);
  let at = 0;
  sparseKeys.forEach((key, i) => {
    const p = postings.get(key);
    offsets[i] = at;
    sparse.set(p.ids.subarray(0, p.n), at);
    at += p.n;
  });
  offsets[sparseKeys.length] = at;
  const dense = new Uint32Array(denseKeys.length * words);
  denseKeys.forEach((key, i) => dense.set(postings.get(key).bits, i * words));
  postings.clear();
  parentPort.postMessage({ sparseKeys, offsets, sparse, denseKeys, dense, words }, [
    offsets.buffer,
    sparse.buffer,
    dense.buffer,
  ]);
}

parentPort.on('message', (message) => {
  if (message.done) {
    pack();
    return;
  }
  const { ids, names } = message;
  for (let i = 0; i < ids.length; i++) file(ids[i], names[i]);
});
