import type { IncomingMessage } from 'node:http';

/**
 * Browser origins, besides the server's own host, whose pages may open a websocket: exact origins
 * (`'https://chat.example.com'`), or a predicate given the `Origin` header and the upgrade request.
 */
export type AllowedOrigins = readonly string[] | ((origin: string, request: IncomingMessage) => boolean);

/** Options of `LanarkyWsAdapter`. */
export interface LanarkyWsAdapterOptions {
  /** Largest frame in bytes; a larger one closes the socket with 1009 (default: the module's `bodyLimit`, 1 MiB). */
  maxPayload?: number;
  /** Turns a socket may have queued or running; one more gets a 429 error and the socket closes with 1008 (default 16). */
  maxPendingTurns?: number;
  /**
   * Bytes waiting to be sent to a client that does not read, frames and answers to its pings alike;
   * past it the socket is dropped and its upstream aborted (default 1 MiB).
   */
  maxBufferedBytes?: number;
  /**
   * Cross-site pages allowed to open a websocket. A handshake carrying an `Origin` header (browsers
   * send one) is refused with 403 unless the origin's host is the request's `Host` or this allows it;
   * clients sending no `Origin` (Node, Python, curl) are unaffected (default: none, same host only).
   *
   * @example
   * new LanarkyWsAdapter(app, { allowedOrigins: ['https://chat.example.com'] });
   * new LanarkyWsAdapter(app, { allowedOrigins: (origin) => origin.endsWith('.example.com') });
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Milliseconds between the server's pings; a socket that has not answered the previous ping with
   * a pong is terminated, so dead peers do not hold sockets (default 30,000; 0 turns it off).
   */
  heartbeatInterval?: number;
  /**
   * Websockets open at once across the adapter's gateways; past it a new socket is closed with 1013
   * ("try again later") right after its handshake (default: no limit).
   */
  maxSockets?: number;
}
