import type { IncomingMessage, ServerResponse } from 'node:http';

// Lingering close for bodies nobody will read (nginx's lingering_close, in small).
/** Always read (and drop) for at least this long, so the client gets to see our answer… */
const LINGER_MIN_MS = 200;
/** …then close once this much was dropped… */
const LINGER_BYTES = 8 * 1024 * 1024;
/** …and close anyway after this long. */
const LINGER_MAX_MS = 2_000;

/**
 * Call before answering a request whose body may be left unread (a refused or failed upload).
 * If the body is still arriving once the answer is written, our side of the connection is closed
 * (the client sees the answer, then end of stream) and what still arrives is read and dropped
 * for a short while before the connection is cut: a large upload is never read to its end.
 * Cutting at once would make the kernel reset the connection, and a client busy sending usually
 * loses our answer with it. Node closes a `Connection: close` request's socket right after the
 * answer (destroySoon), so for this one socket that becomes the half-close.
 */
export function lingerIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  const destroySoon = socket.destroySoon;
  let closeAsked = false;
  socket.destroySoon = () => {
    closeAsked = true;
    socket.end();
  };
  // Registered after Node's own 'finish' handler, so it runs once Node decided about the socket.
  res.once('finish', () => {
    if (req.complete || req.destroyed || socket.destroyed) {
      socket.destroySoon = destroySoon;
      if (closeAsked) socket.destroySoon();
      return;
    }
    const started = Date.now();
    let dropped = 0;
    const enough = () => dropped > LINGER_BYTES && Date.now() - started >= LINGER_MIN_MS;
    const settle = () => {
      clearTimeout(minTimer);
      clearTimeout(maxTimer);
    };
    const cut = () => {
      settle();
      socket.destroy();
    };
    const minTimer = setTimeout(() => enough() && cut(), LINGER_MIN_MS);
    const maxTimer = setTimeout(cut, LINGER_MAX_MS);
    minTimer.unref();
    maxTimer.unref();
    req.unpipe();
    req.on('data', (chunk: Buffer) => {
      dropped += chunk.length;
      if (enough()) cut();
    });
    req.once('end', settle);
    req.once('close', settle);
    req.resume();
    socket.end();
  });
}
