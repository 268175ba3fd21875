import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Agent, request, type Dispatcher } from 'undici';
import { UPSTREAM_BODY_CLOSED } from '../lanarky-openai.messages';

/** The `fetch` signature the OpenAI SDK calls. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Under the servers' usual 5 s, so that a pooled connection is dropped here before the server drops it. */
const KEEP_ALIVE_TIMEOUT = 4_000;
/** Statuses whose response has no body (a `Response` refuses one). */
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/** The Node stream behind each response {@link UpstreamFetch} made, for {@link readText}. */
const nodeBodies = new WeakMap<Response, Readable>();

/**
 * The `fetch` of the module's OpenAI client: undici's `request()` over a keep-alive pool,
 * answering with a standard `Response`. The global `fetch` runs on the same undici, plus the
 * WHATWG request pipeline and a web stream read per chunk: on the benchmark machine about a
 * millisecond of CPU a request, and a quarter of the server's CPU per paced chunk. Bodies it
 * cannot send as they are (form data, streams) go to the global `fetch`.
 */
@Injectable()
export class UpstreamFetch implements OnApplicationShutdown {
  // undici's own 300 s limits off: they would cut a slow model short under a larger SDK `timeout`
  // (which covers the wait for headers) and the module's `idleTimeout` (gaps between chunks).
  private readonly agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT, headersTimeout: 0, bodyTimeout: 0 });

  readonly fetch: Fetch = async (input, init = {}) => {
    const body = init.body ?? undefined;
    if (input instanceof Request || !isPlainBody(body)) {
      return globalThis.fetch(input, init);
    }
    const method = (init.method ?? 'GET').toUpperCase();
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(input, {
        method: method as Dispatcher.HttpMethod,
        headers: headersOf(init.headers),
        body: body instanceof ArrayBuffer ? new Uint8Array(body) : body,
        signal: init.signal ?? undefined,
        dispatcher: this.agent,
      });
    } catch (error) {
      throw fetchError(error, init.signal);
    }
    const { statusCode: status, statusText, headers, body: stream } = answer;
    // Errors reach whoever reads the body; one unread (or dropped after [DONE]) must not crash the process.
    stream.on('error', ignore);
    const empty = NULL_BODY_STATUSES.has(status) || method === 'HEAD';
    if (empty) {
      stream.resume();
    }
    const response = new Response(empty ? null : webStreamOf(stream), { status, statusText, headers: responseHeaders(headers) });
    // As fetch's responses do; the SDK logs it.
    Object.defineProperty(response, 'url', { value: String(input) });
    if (!empty) {
      nodeBodies.set(response, stream);
    }
    return response;
  };

  /** Closes the pooled connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }
}

/**
 * Feeds a response's body to `onText` as it arrives, decoded as UTF-8, until the body ends or
 * `onText` returns false; the rest of the body is then read and dropped, which keeps the
 * connection for the next request. Reads bodies of {@link UpstreamFetch} as Node streams (a
 * `data` event a chunk), any other as a web stream. A throw from `onText` rejects, after the
 * body is cancelled.
 */
export function readText(response: Response, onText: (text: string) => boolean): Promise<void> {
  const stream = nodeBodies.get(response);
  if (stream) {
    return readNodeText(stream, onText);
  }
  return response.body ? readWebText(response.body, onText) : Promise.resolve();
}

function readNodeText(stream: Readable, onText: (text: string) => boolean): Promise<void> {
  if (stream.readableEnded) {
    return Promise.resolve();
  }
  if (stream.destroyed) {
    return Promise.reject(stream.errored ?? new Error(UPSTREAM_BODY_CLOSED));
  }
  return new Promise((resolve, reject) => {
    const finish = (error?: unknown) => {
      stream.off('data', onData).off('end', finish).off('error', finish).off('close', onClose);
      if (error === undefined) {
        resolve();
      } else {
        stream.destroy();
        reject(error);
      }
    };
    const onData = (chunk: Buffer) => {
      let more: boolean;
      try {
        more = onText(decoder.write(chunk));
      } catch (error) {
        return finish(error);
      }
      if (!more) {
        finish();
        stream.resume();
      }
    };
    const onClose = () => finish(stream.readableEnded ? undefined : new Error(UPSTREAM_BODY_CLOSED));
    // undici's body ignores setEncoding(): its chunks stay Buffers.
    const decoder = new StringDecoder('utf8');
    // Resumed explicitly: a listener alone does not restart a stream that was paused.
    stream.on('data', onData).once('end', finish).once('error', finish).once('close', onClose).resume();
  });
}

async function readWebText(body: ReadableStream<Uint8Array>, onText: (text: string) => boolean): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !onText(decoder.decode(value, { stream: true }))) {
        return;
      }
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/** Bodies undici sends as they are; the SDK's JSON requests are strings. */
function isPlainBody(body: unknown): body is string | Uint8Array | ArrayBuffer | undefined {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

function headersOf(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  new Headers(init).forEach((value, name) => (headers[name] = value));
  return headers;
}

function responseHeaders(headers: Record<string, string | string[] | undefined>): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value ?? '']) {
      result.append(name, item);
    }
  }
  return result;
}

/** A web stream over `stream` that starts reading it only when read itself (the SDK's `text()`, `json()`). */
function webStreamOf(stream: Readable): ReadableStream<Uint8Array> {
  let chunks: AsyncIterator<Buffer> | undefined;
  const source: UnderlyingDefaultSource<Uint8Array> = {
    async pull(controller) {
      chunks ??= stream[Symbol.asyncIterator]();
      const { done, value } = await chunks.next();
      if (done) {
        controller.close();
      } else {
        controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      }
    },
    cancel() {
      stream.destroy();
    },
  };
  // No read ahead (a high-water mark of 0): `pull` runs only when the web stream is read.
  return new ReadableStream(source, { highWaterMark: 0 });
}

/**
 * A failed request as `fetch` reports one: the signal's reason once aborted (an `AbortError`,
 * which the SDK tells apart), otherwise `TypeError('fetch failed')` with the cause. A reason of
 * another realm (a vm context, a jest test) is re-created in this one, or the SDK's
 * `instanceof Error` would miss it.
 */
function fetchError(error: unknown, signal: AbortSignal | null | undefined): unknown {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof Error) {
      return reason;
    }
    const { name = 'AbortError', message = 'This operation was aborted' } = (reason ?? {}) as Partial<Error>;
    return Object.assign(new Error(message, { cause: reason }), { name });
  }
  return new TypeError('fetch failed', { cause: error });
}

function ignore(): void {}
