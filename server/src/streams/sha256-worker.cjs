'use strict';
// The hash side of sha256-worker.ts. Plain hashes: one incremental SHA-256 per upload id (OpenSSL),
// fed batches whose buffers travel back to the main thread once hashed. Resumable hashes, whose
// state can be saved and loaded: fed ranges of shared segment buffers, and answering `save` and
// `digest` in the order asked, so a saved state is exactly the state after the ranges sent before
// it. They run on OpenSSL through server/native (built at install) or, where that is not built,
// on hash-wasm, at ~6x the CPU per byte.
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { parentPort } = require('node:worker_threads');
const { createSHA256 } = require('hash-wasm');

/**
 * server/native's addon, found above this file (src/streams/ or a bundle in dist/), or null. One
 * that does not load (built for another platform) is as good as absent: the plain hashes on this
 * thread must keep working.
 */
const native = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'native', 'build', 'Release', 'sha256_state.node');
    if (fs.existsSync(file)) {
      try {
        return require(file);
      } catch {
        return null;
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
})();

/** A state saved by the native hasher starts with these bytes; anything else is hash-wasm's. */
const NATIVE_TAG = Buffer.from('OSSL');

/** The native hasher, shaped like hash-wasm's: its state is OpenSSL's SHA256_CTX. */
function nativeHasher(state) {
  let ctx;
  if (state) {
    ctx = Buffer.from(state.subarray(NATIVE_TAG.length));
    if (!native.check(ctx)) throw new Error('not a SHA-256 state of this build');
  } else ctx = native.init();
  return {
    native: true,
    update: (bytes) => native.update(ctx, bytes),
    save: () => Buffer.concat([NATIVE_TAG, ctx]),
    digest: () => native.digest(ctx).toString('hex'),
  };
}

const isNativeState = (state) =>
  state.length > NATIVE_TAG.length && NATIVE_TAG.equals(state.subarray(0, NATIVE_TAG.length));

/** A hasher continuing `state`, or a fresh one (native unless `wasm` or not built). */
async function openHasher(state, wasm) {
  if (state ? isNativeState(state) : native && !wasm) {
    if (!native)
      throw new Error('this upload was hashed natively; this instance lacks server/native');
    return nativeHasher(state);
  }
  const h = idle.length ? idle.pop() : await createSHA256();
  if (state) h.load(state);
  else h.init();
  return h;
}

const hashes = new Map();
/** id → promise of the hasher, every operation chained on it so they run in message order. */
const resumables = new Map();
/** hash-wasm hashers no upload holds: `init` or `load` starts them over (no new instance). */
const idle = [];

function release(entry) {
  entry.p.then((h) => {
    if (h && !h.native && idle.length < 8) idle.push(h);
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
      entry.p = openHasher(m.state ? Buffer.from(m.state) : null, m.wasm);
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
        const state = new Uint8Array(h.save());
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
