import { createParser } from 'eventsource-parser';

/** One server-sent event as a client sees it. */
export interface StreamingEvent {
  /** The `event:` field, or 'message' when the server named none. */
  event: string;
  /** The `data:` lines, joined with '\n'. */
  data: string;
  /** The `id:` field, when the server sent one. */
  id?: string;
}

/** Options of {@link StreamingClient}. */
export interface StreamingClientOptions {
  /** Where the server is (default 'http://localhost:3000'; relative to the page in a browser); request paths are appended to it. */
  baseUrl?: string;
  /** The fetch to use (default the platform's `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** A query parameter's value; `undefined` leaves the parameter out. */
export type StreamingParamValue = string | number | boolean | undefined;

/** Options of one {@link StreamingClient.streamResponse} request. */
export interface StreamingRequestOptions {
  /** Query parameters, e.g. `{ stream: 'true' }`. */
  params?: Record<string, StreamingParamValue>;
  /** A body sent as JSON, with `content-type: application/json`. */
  json?: unknown;
  /** Headers of this request, over the client's. */
  headers?: Record<string, string>;
  /** Aborts the request, and the stream with it. */
  signal?: AbortSignal;
}

/**
 * A non-2xx answer to {@link StreamingClient.streamResponse}: the server refused before streaming.
 *
 * @example
 * try { for await (const e of client.streamResponse('POST', '/chat', { json })) {} }
 * catch (error) { if (error instanceof StreamingClientError) console.error(error.status, error.json); }
 */
export class StreamingClientError extends Error {
  override readonly name = 'StreamingClientError';

  constructor(
    /** The HTTP status. */
    readonly status: number,
    /** The response body, as text. */
    readonly body: string,
    /** The response body, parsed, when it was JSON. */
    readonly json?: unknown,
  ) {
    super(`HTTP ${status}${body ? `: ${body.replace(/\s*\n\s*/g, ' ')}` : ''}`);
  }
}

/**
 * An HTTP client for server-sent event streams, as Lanarky's `StreamingClient`: it sends a request
 * and yields the answer's events as they arrive. Runs on Node 20+ and in browsers (it only needs fetch).
 *
 * @example
 * const client = new StreamingClient({ baseUrl: 'http://localhost:3000' });
 * for await (const event of client.streamResponse('POST', '/chat', {
 *   params: { stream: 'true' },
 *   json: { messages: [{ role: 'user', content: 'hi' }] },
 * })) {
 *   console.log(`${event.event}: ${event.data}`);
 * }
 */
export class StreamingClient {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly headers: Record<string, string>;

  constructor(options: StreamingClientOptions = {}) {
    this.baseUrl = options.baseUrl ?? 'http://localhost:3000';
    // Looked up per call, so a fetch replaced after construction (test environments, polyfills) is used.
    this.fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.headers = options.headers ?? {};
  }

  /**
   * Sends `method path` and yields the events of the answer, one by one, as they arrive.
   * Throws {@link StreamingClientError} on a non-2xx answer. Leaving the loop early cancels the
   * response, so the server sees the client go.
   */
  async *streamResponse(
    method: string,
    path: string,
    options: StreamingRequestOptions = {},
  ): AsyncGenerator<StreamingEvent, void, undefined> {
    const { params, json, signal } = options;
    const headers: Record<string, string> = { accept: 'text/event-stream', ...this.headers };
    if (json !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const response = await this.fetch(this.url(path, params), {
      method,
      headers: { ...headers, ...options.headers },
      body: json === undefined ? undefined : JSON.stringify(json),
      signal,
    });
    if (!response.ok) {
      const body = await response.text();
      throw new StreamingClientError(response.status, body, parseJson(body));
    }
    if (!response.body) {
      return;
    }

    const pending: StreamingEvent[] = [];
    const parser = createParser({
      onEvent: ({ event = 'message', data, id }) => pending.push(id === undefined ? { event, data } : { event, data, id }),
    });
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    let finished = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        // `stream: true` keeps the bytes of a character split across chunks until the rest arrives.
        parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
        while (pending.length > 0) {
          yield pending.shift()!;
        }
        if (done) {
          finished = true;
          return;
        }
      }
    } finally {
      if (!finished) {
        // Cancelling the body closes the connection, so the server sees the client leave.
        await reader.cancel().catch(() => undefined);
      }
      reader.releaseLock();
    }
  }

  private url(path: string, params: StreamingRequestOptions['params'] = {}): string {
    // In a browser a relative baseUrl ('/api') resolves against the page.
    const page = (globalThis as { location?: { href: string } }).location?.href;
    const url = new URL(`${this.baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`, page);
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined) {
        url.searchParams.append(name, String(value));
      }
    }
    return url.toString();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
