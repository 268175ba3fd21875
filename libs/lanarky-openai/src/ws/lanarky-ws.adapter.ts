import { Logger, type INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Subject, concatMap, defer, finalize, first, fromEvent, mergeMap, of, takeUntil, tap, type Observable } from 'rxjs';
import { WebSocket, type RawData, type Server, type VerifyClientCallbackAsync, type VerifyClientCallbackSync } from 'ws';
import { ChatEventType } from '../events/chat-event';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import type { AllowedOrigins, LanarkyWsAdapterOptions } from '../interfaces/lanarky-ws-adapter-options.interface';
import { DEFAULT_BODY_LIMIT, LANARKY_WS_ADAPTER } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { isOriginAllowed, normalizeOrigin } from './allowed-origin';
import { CHAT_EVENT, END_FRAME, parseChatFrame } from './chat-frames';
import { cancelTurn, getHandshake, queueTurn, rememberHandshake } from './chat-socket';
import { startHeartbeat } from './heartbeat';
import { corkForThisTurn } from '../utils/cork-for-this-turn';
import {
  CLIENT_BROKE_PROTOCOL,
  CLIENT_NOT_READING,
  FRAME_UNKNOWN,
  ORIGIN_REFUSED,
  TOO_MANY_SOCKETS,
  TOO_MANY_TURNS,
} from '../lanarky-openai.messages';

const DEFAULT_MAX_PENDING_TURNS = 16;
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
const DEFAULT_HEARTBEAT_INTERVAL = 30_000;
/** Close code for a client that broke the socket's rules (RFC 6455). */
const POLICY_VIOLATION = 1008;
/** Close code for a server that cannot take the socket now (RFC 6455, IANA registry). */
const TRY_AGAIN_LATER = 1013;
/** The close code `ws` sends for each of its `WS_ERR_*` receiving errors that is not 1002 (protocol error). */
const CLIENT_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008,
};
const PROTOCOL_ERROR = 1002;

/**
 * Nest's `WsAdapter`, taught the chat protocol for gateways with a `@ChatResource()` handler:
 * Lanarky's `{"messages": [...]}` frames as well as Nest's `{event, data}`, turns run one at a
 * time in arrival order, `{"event": "cancel"}` aborts one turn (the oldest not yet cancelled: the
 * one in progress, or the one it came right behind), and a bad frame gets `error` and `end`
 * instead of silence. Other gateways behave as under `WsAdapter`, and all of them get its limits:
 * cross-site handshakes refused, backlogs bounded (pongs included), a heartbeat, an optional cap
 * on open sockets, and client mistakes logged as warnings.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new LanarkyWsAdapter(app));
 */
export class LanarkyWsAdapter extends WsAdapter {
  readonly [LANARKY_WS_ADAPTER] = true;
  private readonly maxPayload: number;
  private readonly maxPendingTurns: number;
  private readonly maxBufferedBytes: number;
  private readonly allowedOrigins: AllowedOrigins;
  private readonly heartbeatInterval: number;
  private readonly maxSockets: number;
  private openSockets = 0;
  private capLogged = false;
  private readonly chatLogger = new Logger('LanarkyOpenAI');

  constructor(app: INestApplicationContext, options: LanarkyWsAdapterOptions = {}) {
    super(app);
    const moduleOptions = app.get<LanarkyOpenAIModuleOptions | undefined>(LANARKY_OPENAI_OPTIONS, { strict: false });
    this.maxPayload = options.maxPayload ?? moduleOptions?.bodyLimit ?? DEFAULT_BODY_LIMIT;
    this.maxPendingTurns = options.maxPendingTurns ?? DEFAULT_MAX_PENDING_TURNS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    const { allowedOrigins = [] } = options;
    this.allowedOrigins = typeof allowedOrigins === 'function' ? allowedOrigins : allowedOrigins.map(normalizeOrigin);
    this.heartbeatInterval = options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL;
    this.maxSockets = options.maxSockets ?? Infinity;
  }

  override create(port: number, options: Record<string, any> = {}): Server {
    const { verifyClient, ...rest } = options;
    const server: Server = super.create(port, { maxPayload: this.maxPayload, ...rest, verifyClient: this.verifyOrigin(verifyClient) });
    if (this.heartbeatInterval > 0) {
      startHeartbeat(server, this.heartbeatInterval);
    }
    return server;
  }

  /** Logs what a client did wrong as one warning, without a stack: any client can send a bad frame. */
  override bindErrorHandler(server: Server): Server {
    server.on('connection', (client: WebSocket) => client.on('error', (error: Error) => this.onClientError(error)));
    server.on('error', (error: Error) => this.logger.error(error));
    return server;
  }

  override bindClientConnect(server: Server, callback: (client: WebSocket, request: IncomingMessage) => void): void {
    server.on('connection', (client: WebSocket, request: IncomingMessage) => {
      if (this.openSockets >= this.maxSockets) {
        return this.refuseOverCap(client);
      }
      this.openSockets++;
      client.once('close', () => {
        this.openSockets--;
        if (this.openSockets < this.maxSockets) {
          this.capLogged = false;
        }
      });
      // ws answers pings itself: a client that sends them and never reads would pile up pongs.
      client.on('ping', () => this.dropIfNotReading(client));
      rememberHandshake(client, request);
      callback(client, request);
    });
  }

  /** Flushes what the clients' sockets hold before Nest terminates them (at shutdown). */
  override async close(server: Server): Promise<void> {
    server.clients.forEach((client) => socketOf(client)?.uncork());
    return super.close(server);
  }

  override bindMessageHandlers(
    client: WebSocket,
    handlers: MessageMappingProperties[],
    transform: (data: any) => Observable<any>,
  ): void {
    const chat = handlers.find(({ message }) => message === CHAT_EVENT);
    if (!chat) {
      // WsAdapter sends each reply as it comes out: look at the backlog right after each send.
      const bounded = (data: any) => transform(data).pipe(tap(() => queueMicrotask(() => this.dropIfNotReading(client))));
      return super.bindMessageHandlers(client, handlers, bounded);
    }
    const others = new Map(handlers.map((handler) => [handler.message, handler]));
    const close$ = fromEvent(client, 'close').pipe(first());
    const turns = new Subject<Observable<unknown>>();
    const replies = new Subject<Observable<unknown>>();
    const send = (frame: unknown) => {
      if (frame === undefined || frame === null || client.readyState !== WebSocket.OPEN) {
        return;
      }
      // Frames sent in one event-loop turn leave in one write rather than a syscall each.
      const socket = socketOf(client);
      if (socket) {
        corkForThisTurn(socket);
      }
      client.send(JSON.stringify(frame));
      this.dropIfNotReading(client);
    };
    // Turns wait for each other, at most `maxPendingTurns` of them; replies of the gateway's
    // other handlers do not wait, as under WsAdapter.
    let pending = 0;
    const enqueue = (turn: Observable<unknown>) => {
      if (pending >= this.maxPendingTurns) {
        send({ event: ChatEventType.Error, data: { status_code: 429, detail: TOO_MANY_TURNS(this.maxPendingTurns) } });
        send(END_FRAME);
        socketOf(client)?.uncork();
        return client.close(POLICY_VIOLATION, 'too many turns waiting');
      }
      pending++;
      // Registered now, not when it starts, so that a cancel right behind it finds it.
      turns.next(queueTurn(client, turn).pipe(finalize(() => pending--)));
    };
    turns.pipe(concatMap((turn) => turn), takeUntil(close$)).subscribe(send);
    replies.pipe(mergeMap((reply) => reply), takeUntil(close$)).subscribe(send);

    client.on('message', (data: RawData, isBinary: boolean) => {
      const frame = parseChatFrame(data, isBinary);
      switch (frame.kind) {
        case 'turn':
          return enqueue(defer(() => transform(chat.callback(frame.data, CHAT_EVENT))));
        case 'cancel':
          return cancelTurn(client);
        case 'event': {
          const handler = others.get(frame.event);
          return handler
            ? replies.next(defer(() => transform(handler.callback(frame.data, frame.event))))
            : enqueue(invalidTurn(FRAME_UNKNOWN(frame.event)));
        }
        case 'invalid':
          return enqueue(invalidTurn(frame.detail));
      }
    });
  }

  /** Refuses cross-site handshakes with 403 before the gateway's own `verifyClient`, if any, has its say. */
  private verifyOrigin(own?: VerifyClientCallbackAsync | VerifyClientCallbackSync): VerifyClientCallbackAsync {
    return (info, done) => {
      if (!isOriginAllowed(info.origin, info.req, this.allowedOrigins)) {
        this.chatLogger.warn(ORIGIN_REFUSED(info.origin, info.req.headers.host));
        return done(false, 403);
      }
      if (!own) {
        return done(true);
      }
      return own.length === 2 ? (own as VerifyClientCallbackAsync)(info, done) : done((own as VerifyClientCallbackSync)(info));
    };
  }

  /** Drops a client whose backlog (frames, pongs) is over `maxBufferedBytes`; the close aborts its upstream. */
  private dropIfNotReading(client: WebSocket): void {
    if (client.readyState === WebSocket.OPEN && client.bufferedAmount > this.maxBufferedBytes) {
      this.chatLogger.warn(CLIENT_NOT_READING(client.bufferedAmount, this.maxBufferedBytes));
      client.terminate();
    }
  }

  /** Closes a socket past `maxSockets` right after its handshake; warns once each time the cap is reached. */
  private refuseOverCap(client: WebSocket): void {
    if (!this.capLogged) {
      this.capLogged = true;
      this.chatLogger.warn(TOO_MANY_SOCKETS(this.maxSockets));
    }
    client.close(TRY_AGAIN_LATER, 'try again later');
  }

  private onClientError(error: Error & { code?: unknown }): void {
    const code = typeof error.code === 'string' ? error.code : '';
    if (!code.startsWith('WS_ERR_')) {
      return this.logger.error(error);
    }
    this.chatLogger.warn(CLIENT_BROKE_PROTOCOL(error.message, CLIENT_ERROR_CLOSE_CODES[code] ?? PROTOCOL_ERROR));
  }
}

/** The TCP socket a websocket writes to: the one of its upgrade request. */
function socketOf(client: WebSocket): Socket | undefined {
  return getHandshake(client)?.socket;
}

/** The reply to a frame that cannot start a turn: a 400 error, then the end of the turn. */
function invalidTurn(detail: string): Observable<unknown> {
  return of({ event: ChatEventType.Error, data: { status_code: 400, detail } }, END_FRAME);
}
