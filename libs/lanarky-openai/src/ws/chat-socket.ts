import type { IncomingMessage } from 'node:http';
import { Subject, type Observable } from 'rxjs';

/** What the library keeps for one chat socket, for as long as the socket lives. */
interface ChatSocketState {
  cancel$: Subject<void>;
  handshake?: IncomingMessage;
}

const sockets = new WeakMap<object, ChatSocketState>();

function stateOf(client: object): ChatSocketState {
  let state = sockets.get(client);
  if (!state) {
    state = { cancel$: new Subject<void>() };
    sockets.set(client, state);
  }
  return state;
}

/** Emits when the client asks to cancel its turn in progress. */
export function cancellationOf(client: object): Observable<void> {
  return stateOf(client).cancel$;
}

/** Cancels the client's turn in progress, if any. */
export function cancelTurn(client: object): void {
  sockets.get(client)?.cancel$.next();
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
