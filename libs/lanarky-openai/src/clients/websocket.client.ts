import { ChatEventType } from '../events/chat-event';

/** How a {@link WebSocketSession} encodes what it sends and decodes what it receives. */
export type WebSocketMode = 'json' | 'text' | 'bytes';

/** What `send` takes and `receive` gives in each mode. */
export interface WebSocketModeTypes {
  json: { send: unknown; receive: unknown };
  text: { send: string; receive: string };
  bytes: { send: Uint8Array | ArrayBuffer | string; receive: Uint8Array };
}

/** One event of the chat protocol, as the server frames it: `{"event": ..., "data": ...}`. */
export interface WebSocketEvent {
  /** 'completion', 'error', or another event of the gateway. */
  event: string;
  /** A completion's text chunk, an error's `{status_code, detail}`, ... */
  data: unknown;
}

/** The part of the WHATWG WebSocket API the client uses; browsers, Node 22+ and the `ws` package offer it. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}

/** A WebSocket class: `globalThis.WebSocket`, `ws`'s default export, or a test double. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Options of {@link WebSocketClient}. */
export interface WebSocketClientOptions<M extends WebSocketMode = 'json'> {
  /** The socket's URL (default 'ws://localhost:3000/ws'). */
  uri?: string;
  /** How frames are encoded and decoded (default 'json'). */
  mode?: M;
  /** The WebSocket class (default `globalThis.WebSocket`, else the `ws` package, loaded on first use). */
  WebSocket?: WebSocketConstructor;
}

/** A socket closed while a frame was awaited. */
export class WebSocketClosedError extends Error {
  override readonly name = 'WebSocketClosedError';

  constructor(
    /** The close code (1006 when the connection dropped without a closing handshake). */
    readonly code: number,
    /** The close reason, possibly empty. */
    readonly reason: string,
  ) {
    super(`WebSocket closed (${code}${reason ? ` ${reason}` : ''}) before a frame arrived`);
  }
}

type Frame = string | ArrayBuffer | ArrayBufferView;

const CLOSING = 2;
const encoder = new TextEncoder();
// Node 20 and recent browsers define it; elsewhere the method sits under a registered symbol, unused.
const asyncDispose: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('Symbol.asyncDispose') as typeof Symbol.asyncDispose);

/**
 * An open websocket, from {@link WebSocketClient.connect}. Frames that arrive before they are asked
 * for wait in a queue, none lost.
 *
 * @example
 * await using session = await new WebSocketClient().connect();
 * session.send({ messages: [{ role: 'user', content: 'hi' }] });
 * for await (const event of session.streamResponse()) process.stdout.write(String(event.data));
 */
export class WebSocketSession<M extends WebSocketMode = 'json'> {
  /** Resolves once the socket is open; rejects if the handshake fails. */
  readonly opened: Promise<void>;
  /** Resolves once the socket is closed, whoever closed it. */
  readonly closed: Promise<void>;

  private readonly frames: Frame[] = [];
  private readonly waiters: Array<{ resolve: (frame: Frame) => void; reject: (error: Error) => void }> = [];
  private closeError?: WebSocketClosedError;

  /** Use {@link WebSocketClient.connect}; this takes a socket that has not opened yet, to miss no frame. */
  constructor(
    private readonly socket: WebSocketLike,
    /** How frames are encoded and decoded. */
    readonly mode: M,
    uri: string,
  ) {
    socket.binaryType = 'arraybuffer';
    let open = false;
    this.opened = new Promise((resolve, reject) => {
      socket.addEventListener('open', () => {
        open = true;
        resolve();
      });
      socket.addEventListener('error', (event: { message?: string }) => {
        if (!open) reject(new Error(`WebSocket connection to ${uri} failed${event?.message ? `: ${event.message}` : ''}`));
      });
      socket.addEventListener('close', () => reject(new Error(`WebSocket connection to ${uri} failed`)));
    });
    this.closed = new Promise((resolve) => {
      socket.addEventListener('close', (event: { code?: number; reason?: string }) => {
        this.closeError = new WebSocketClosedError(event?.code ?? 1006, event?.reason ?? '');
        this.waiters.splice(0).forEach((waiter) => waiter.reject(this.closeError!));
        resolve();
      });
    });
    socket.addEventListener('message', (event: { data: Frame }) => {
      const waiter = this.waiters.shift();
      if (waiter) waiter.resolve(event.data);
      else this.frames.push(event.data);
    });
  }

  /**
   * Sends one frame: in 'json' mode any value as JSON text, in 'text' mode a string as is,
   * in 'bytes' mode bytes (or a string's UTF-8) as a binary frame.
   */
  send(message: WebSocketModeTypes[M]['send']): void {
    if (this.mode === 'json') {
      this.socket.send(JSON.stringify(message));
    } else if (this.mode === 'text') {
      if (typeof message !== 'string') throw new TypeError('text mode sends strings only');
      this.socket.send(message);
    } else {
      this.socket.send(toBytes(message as Frame));
    }
  }

  /**
   * The next frame: in 'json' mode parsed, in 'text' mode a string, in 'bytes' mode a Uint8Array.
   * Rejects with {@link WebSocketClosedError} if the socket closes first.
   */
  async receive(): Promise<WebSocketModeTypes[M]['receive']> {
    const frame = await this.nextFrame();
    if (this.mode === 'bytes') return toBytes(frame);
    const text = toText(frame);
    return this.mode === 'json' ? JSON.parse(text) : text;
  }

  /**
   * The events of one turn, in order, whatever the mode, up to the `end` frame (consumed, not
   * yielded). Frames after it stay queued for the next turn.
   */
  async *streamResponse(): AsyncGenerator<WebSocketEvent, void, undefined> {
    for (;;) {
      const text = toText(await this.nextFrame());
      const frame: unknown = JSON.parse(text);
      if (typeof frame !== 'object' || frame === null || typeof (frame as WebSocketEvent).event !== 'string') {
        throw new Error(`not a protocol event frame: ${text.slice(0, 200)}`);
      }
      const { event, data } = frame as WebSocketEvent;
      if (event === ChatEventType.End) return;
      yield { event, data };
    }
  }

  /** Closes the socket (with `code` and `reason` if given) and resolves once it is closed. */
  close(code?: number, reason?: string): Promise<void> {
    if (this.socket.readyState < CLOSING) {
      this.socket.close(code, reason);
    }
    return this.closed;
  }

  /** Closes the socket, for `await using session = await client.connect()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  private nextFrame(): Promise<Frame> {
    if (this.frames.length > 0) return Promise.resolve(this.frames.shift()!);
    if (this.closeError) return Promise.reject(this.closeError);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }
}

/**
 * A websocket client for the chat protocol, as Lanarky's `WebSocketClient`. Uses the platform's
 * WebSocket (browsers, Node 22+), else the `ws` package.
 *
 * @example
 * const client = new WebSocketClient({ uri: 'ws://localhost:3000/ws' });
 * const session = await client.connect();
 * session.send({ messages: [{ role: 'user', content: 'hi' }] });
 * for await (const event of session.streamResponse()) console.log(event.event, event.data);
 * await session.close();
 */
export class WebSocketClient<M extends WebSocketMode = 'json'> {
  /** The socket's URL. */
  readonly uri: string;
  /** How sessions encode and decode frames. */
  readonly mode: M;
  private readonly WebSocket?: WebSocketConstructor;

  constructor(options: WebSocketClientOptions<M> = {}) {
    this.uri = options.uri ?? 'ws://localhost:3000/ws';
    this.mode = options.mode ?? ('json' as M);
    this.WebSocket = options.WebSocket;
  }

  /** Opens a socket; resolves with its session once open, rejects if the handshake fails. */
  async connect(): Promise<WebSocketSession<M>> {
    const WebSocketClass =
      this.WebSocket ??
      (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ??
      // Node 20 has no global WebSocket: load `ws` only then, so browsers never need it.
      (await import('ws')).default;
    const session = new WebSocketSession(new WebSocketClass(this.uri), this.mode, this.uri);
    await session.opened;
    return session;
  }
}

function toBytes(frame: Frame): Uint8Array {
  if (typeof frame === 'string') return encoder.encode(frame);
  // Views and buffers may come from another realm (Node's Buffer under jest): no instanceof.
  if (ArrayBuffer.isView(frame)) return new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength);
  return new Uint8Array(frame);
}

function toText(frame: Frame): string {
  return typeof frame === 'string' ? frame : new TextDecoder().decode(toBytes(frame));
}
