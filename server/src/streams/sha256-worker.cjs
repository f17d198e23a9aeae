'use strict';
// The hash side of sha256-worker.ts. Plain hashes: one incremental SHA-256 per upload id (OpenSSL),
// fed batches whose buffers travel back to the main thread once hashed. Resumable hashes
// (hash-wasm, whose state can be saved and loaded): fed ranges of shared segment buffers, and
// answering `save` and `digest` in the order asked, so a saved state is exactly the state after
// the ranges sent before it.
const { createHash } = require('node:crypto');
const { parentPort } = require('node:worker_threads');
const { createSHA256 } = require('hash-wasm');

const hashes = new Map();
/** id → promise of the hasher, every operation chained on it so they run in message order. */
const resumables = new Map();
/** Hashers no upload holds: `init` or `load` starts them over, saving a WebAssembly instance. */
const idle = [];

function release(entry) {
  entry.p.then((h) => {
    if (h && idle.length < 8) idle.push(h);
  });
}

function resumable(m, step) {
  const entry = resumables.get(m.id);
  if (!entry) return;
  entry.p = entry.p.then(step).catch((err) => {
    // One failure fails the hash: later operations answer nothing but this.
    if (!entry.failed) parentPort.postMessage({ id: m.id, error: String(err?.message ?? err) });
    entry.failed = true;
  });
}

parentPort.on('message', (m) => {
  switch (m.op) {
    case 'update': {
      let hash = hashes.get(m.id);
      if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
      hash.update(new Uint8Array(m.buffer, 0, m.length));
      parentPort.postMessage({ id: m.id, buffer: m.buffer }, [m.buffer]);
      return;
    }
    case 'digest': {
      const hash = hashes.get(m.id) ?? createHash('sha256');
      hashes.delete(m.id);
      parentPort.postMessage({ id: m.id, hex: hash.digest('hex') });
      return;
    }
    case 'open': {
      const entry = { failed: false, p: null };
      const hasher = idle.length ? Promise.resolve(idle.pop()) : createSHA256();
      entry.p = hasher.then((h) => {
        if (m.state) h.load(new Uint8Array(m.state));
        else h.init();
        return h;
      });
      resumables.set(m.id, entry);
      resumable(m, (h) => h);
      return;
    }
    case 'feed':
      return resumable(m, (h) => {
        h.update(new Uint8Array(m.buffer, m.start, m.end - m.start));
        return h;
      });
    case 'save':
      return resumable(m, (h) => {
        const state = h.save();
        parentPort.postMessage({ id: m.id, state });
        return h;
      });
    case 'final':
      return resumable(m, (h) => {
        parentPort.postMessage({ id: m.id, hex: h.digest('hex') });
        return h;
      });
    default: {
      hashes.delete(m.id);
      const entry = resumables.get(m.id);
      resumables.delete(m.id);
      if (entry && !entry.failed) release(entry);
    }
  }
});
