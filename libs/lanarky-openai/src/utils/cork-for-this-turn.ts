import type { Writable } from 'node:stream';

/** Sockets corked by {@link corkForThisTurn} whose uncork is still to come. */
const corked = new WeakSet<Writable>();

/**
 * Holds what is written to `socket` until the current event-loop turn is over, then sends it
 * in one write: the events of one upstream read leave together instead of a syscall each.
 * Corks at most once a turn; ending the stream flushes it earlier (Node uncorks on `end()`).
 */
export function corkForThisTurn(socket: Writable): void {
  if (corked.has(socket)) {
    return;
  }
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
