import type { Socket } from 'node:net';

/** A socket's writes, counted from `countWrites()` on. */
export interface WriteCount {
  /** Calls of `_write` and `_writev`: one syscall each. */
  readonly writes: number;
  /** Puts the socket's own methods back. */
  stop(): void;
}

/** Counts the writes a socket makes to the kernel, to see how events are batched. */
export function countWrites(socket: Socket): WriteCount {
  const { _write, _writev } = socket;
  const counter = {
    writes: 0,
    stop: () => Object.assign(socket, { _write, _writev }),
  };
  const counted = <T extends (...args: any[]) => void>(original: T) =>
    function (this: Socket, ...args: Parameters<T>) {
      counter.writes++;
      return original.apply(this, args);
    };
  socket._write = counted(_write);
  socket._writev = _writev && counted(_writev);
  return counter;
}
