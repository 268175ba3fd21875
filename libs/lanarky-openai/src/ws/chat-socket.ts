import type { IncomingMessage } from 'node:http';
import { NEVER, ReplaySubject, defer, finalize, type Observable } from 'rxjs';

/** A turn queued or running on a socket, and what cancels it. */
interface Turn {
  /** Replays its cancel, so that a cancel that came before the pipeline listened still counts. */
  cancelled: ReplaySubject<void>;
  cancelRequested: boolean;
}

/** What the library keeps for one chat socket, for as long as the socket lives. */
interface ChatSocketState {
  /** Turns queued or running, in arrival order. */
  turns: Turn[];
  running?: Turn;
  handshake?: IncomingMessage;
}

const sockets = new WeakMap<object, ChatSocketState>();

function stateOf(client: object): ChatSocketState {
  let state = sockets.get(client);
  if (!state) {
    state = { turns: [] };
    sockets.set(client, state);
  }
  return state;
}

/**
 * Registers a turn on the client's socket as it arrives, so that a cancel can reach it before it
 * runs; the turn counts as running from its subscription until it ends.
 */
export function queueTurn<T>(client: object, turn$: Observable<T>): Observable<T> {
  const state = stateOf(client);
  const turn: Turn = { cancelled: new ReplaySubject<void>(1), cancelRequested: false };
  state.turns.push(turn);
  return defer(() => {
    state.running = turn;
    return turn$;
  }).pipe(
    finalize(() => {
      const index = state.turns.indexOf(turn);
      if (index >= 0) {
        state.turns.splice(index, 1);
      }
      if (state.running === turn) {
        state.running = undefined;
      }
    }),
  );
}

/** Emits when the client cancels its running turn, also when the cancel came before this was subscribed. */
export function cancellationOf(client: object): Observable<void> {
  return sockets.get(client)?.running?.cancelled ?? NEVER;
}

/**
 * Cancels one turn: the oldest one neither finished nor cancelled yet. That is the running turn,
 * or, when a cancel reached that one already, the next queued: a cancel right behind its turn
 * cancels that turn even before it starts, and turns queued further back run. Ignored with no such turn.
 */
export function cancelTurn(client: object): void {
  const turn = sockets.get(client)?.turns.find(({ cancelRequested }) => !cancelRequested);
  if (turn) {
    turn.cancelRequested = true;
    turn.cancelled.next();
    turn.cancelled.complete();
  }
}

/** Remembers the HTTP upgrade request a socket was opened with. */
export function rememberHandshake(client: object, request: IncomingMessage): void {
  stateOf(client).handshake = request;
}

/**
 * The HTTP upgrade request a websocket was opened with (its URL, query and headers), for guards
 * and factories: Nest's ws guards get the socket, not the handshake. Needs `LanarkyWsAdapter`.
 *
 * @example
 * const token = new URL(getHandshake(client)!.url!, 'ws://localhost').searchParams.get('token');
 */
export function getHandshake(client: object): IncomingMessage | undefined {
  return sockets.get(client)?.handshake;
}
