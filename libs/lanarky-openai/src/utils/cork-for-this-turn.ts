import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { defer, tap, type MonoTypeOperatorFunction } from 'rxjs';

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

/**
 * Corks the response's socket for each turn in which the source emits, and for each turn in
 * which the socket drained until the response closes: Nest's `@Sse()` writes an event a
 * microtask, and once a full socket buffer made it wait, it goes on writing (events queued
 * before the source completed, too) in the turn of the `drain`.
 */
export function corkEachTurn<T>(response: ServerResponse): MonoTypeOperatorFunction<T> {
  return (source) =>
    defer(() => {
      const cork = () => {
        if (response.socket) {
          corkForThisTurn(response.socket);
        }
      };
      // Ahead of the pipe's own listener, which resumes writing as soon as it hears of the drain.
      response.prependListener('drain', cork);
      response.once('close', () => response.off('drain', cork));
      return source.pipe(tap(cork));
    });
}
