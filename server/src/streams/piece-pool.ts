// Buffers for the pieces of a resumable upload's body, reused from piece to piece and from
// request to request. The socket's chunks are copied into them and let go at once, so they die
// young. Held until the disk and the hash were done with them (tens of MiB in flight), the
// socket's own chunks outlived V8's young generation; their memory, outside the JS heap, was then
// freed only by full mark-compacts, which that memory's growth forced every ~40 MiB: measured on
// one 1 GiB PATCH, 26 mark-compacts per GiB and about a third of the server's CPU. The copy costs
// ~0.1 s/GiB.

/** Free bytes kept for later requests; more than this is left to the garbage collector. */
const KEEP_BYTES = 64 * 1024 * 1024;

const free = new Map<number, Buffer[]>();
let kept = 0;

/** A buffer of exactly `size` bytes, its contents undefined. */
export function takePiece(size: number): Buffer {
  const buffer = free.get(size)?.pop();
  if (!buffer) return Buffer.allocUnsafeSlow(size);
  kept -= size;
  return buffer;
}

/** Gives back a buffer from `takePiece` once nothing reads or writes it any longer. */
export function givePiece(buffer: Buffer): void {
  if (kept + buffer.length > KEEP_BYTES) return;
  let list = free.get(buffer.length);
  if (!list) free.set(buffer.length, (list = []));
  list.push(buffer);
  kept += buffer.length;
}
