import { EventEmitter } from 'node:events';
import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';
import {
  completionBody,
  completionMeta,
  errorBody,
  estimateUsage,
  pause,
  splitWords,
  sseFrames,
} from './openai-wire';

/** What the mock answers to one chat-completions request. Faults win over content. */
export interface MockReply {
  /** Exact content deltas, one chunk each (wins over `text` and `chunkCount`). */
  chunks?: string[];
  /** Reply text, streamed word by word (default 'Hello from the mock OpenAI server.'). */
  text?: string;
  /** Generates N deterministic chunks: 'chunk 0 ', 'chunk 1 ', ... */
  chunkCount?: number;
  /** Delay before each content chunk, in ms (default 0: as fast as possible). */
  delayMs?: number;
  /** Sends the role-only first delta (default true). */
  roleChunk?: boolean;
  /** Sends a final usage chunk with empty choices (default false; also sent for `stream_options.include_usage`). */
  usageChunk?: boolean;
  /** Fault: answers this HTTP status with an OpenAI error body. */
  status?: number;
  /** The message of that error body (a sensible default per status). */
  errorMessage?: string;
  /** Fault: destroys the socket after N content chunks were written (0 = right after the headers). */
  resetAfterChunks?: number;
  /** Fault: reads the request but never sends headers (until the client gives up or `close()`). */
  hang?: boolean;
  /** Writes the body in pieces of at most N bytes, one socket write each, so UTF-8 characters get split. */
  fragmentBytes?: number;
  /** Fault: after N content chunks, sends nothing more but keeps the connection open (a stalled stream). */
  stallAfterChunks?: number;
  /** Fault: after N content chunks, sends an event whose data is not JSON. */
  invalidChunkAfter?: number;
  /** Fault: after N content chunks, sends an OpenAI error object as an event and ends the body. */
  errorEventAfter?: number;
  /** Fault: ends the body cleanly after the content, with no finishing chunk and no `[DONE]`. */
  cutShort?: boolean;
  /**
   * Ends the stream with `[DONE]` but sends no chunk carrying a `finish_reason`, as some
   * OpenAI-compatible servers do (a complete stream all the same).
   */
  noFinishReason?: boolean;
  /**
   * Fault: answers 400 `Unrecognized request argument supplied: stream_options` to a request that
   * carries `stream_options`, as servers that predate it do; other requests get the reply.
   */
  rejectStreamOptions?: boolean;
  /** With `status`: answers an HTML page instead of an OpenAI error body, as a proxy in front would. */
  html?: boolean;
  /** With `status`: a `retry-after-ms` header, so that the SDK's retries come quickly. */
  retryAfterMs?: number;
}

/** A chat-completions request as the mock received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

const DEFAULT_TEXT = 'Hello from the mock OpenAI server.';
const CHAT_PATH = '/v1/chat/completions';

/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions wire format,
 * with scriptable replies and faults. Emits 'request', 'abort' and 'complete' with the RecordedRequest.
 */
export class MockOpenAIServer extends EventEmitter {
  /** Base URL for the SDK: 'http://127.0.0.1:<port>/v1'. */
  readonly url: string;
  /** The port the server listens on. */
  readonly port: number;
  /** Every chat-completions request seen, in order. */
  readonly requests: RecordedRequest[] = [];

  private reply: MockReply;
  private readonly queue: MockReply[] = [];
  private readonly inFlight = new Set<AbortController>();
  private aborted = 0;
  private accepted = 0;
  private readonly sockets = new Set<Socket>();
  private closing = false;

  private constructor(
    private readonly server: Server,
    private readonly defaults: MockReply,
  ) {
    super();
    this.port = (server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/v1`;
    this.reply = { ...defaults };
    server.on('connection', (socket: Socket) => {
      this.accepted++;
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Starts a server on a free port; `defaults` is the reply used when nothing else was set. */
  static async start(defaults: MockReply = {}): Promise<MockOpenAIServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const mock = new MockOpenAIServer(server, defaults);
    server.on('request', (req, res) => void mock.handle(req, res));
    return mock;
  }

  /** The concatenation of the content deltas `reply` streams (partial for resets, empty for other faults). */
  static expectedText(reply: MockReply): string {
    if (reply.status || reply.hang) return '';
    const contents = contentsOf(reply);
    const cut = Math.min(
      reply.resetAfterChunks ?? Infinity,
      reply.stallAfterChunks ?? Infinity,
      reply.invalidChunkAfter ?? Infinity,
      reply.errorEventAfter ?? Infinity,
    );
    return contents.slice(0, Number.isFinite(cut) ? cut : contents.length).join('');
  }

  /** Replaces the reply used for following requests. */
  setReply(reply: MockReply): void {
    this.reply = { ...reply };
  }

  /** Queues replies used once each, first in first out, before the default one. */
  enqueueReply(...replies: MockReply[]): void {
    this.queue.push(...replies);
  }

  /** Requests being answered right now. */
  get openConnections(): number {
    return this.inFlight.size;
  }

  /** TCP connections accepted since the start (or `reset()`): one per request unless clients keep them alive. */
  get socketsAccepted(): number {
    return this.accepted;
  }

  /** TCP connections open right now, idle kept-alive ones included. */
  get socketsOpen(): number {
    return this.sockets.size;
  }

  /** Requests whose client went away before the reply ended. */
  get abortedRequests(): number {
    return this.aborted;
  }

  /** Resolves once `predicate` holds, re-checking on every event and every few ms; rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      const events = ['request', 'abort', 'complete'];
      const finish = (error?: Error) => {
        clearInterval(poll);
        clearTimeout(timer);
        events.forEach((event) => this.off(event, check));
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        try {
          if (predicate()) finish();
        } catch (error) {
          finish(error as Error);
        }
      };
      const poll = setInterval(check, 5);
      const timer = setTimeout(() => finish(new Error(`waitFor timed out after ${timeoutMs}ms`)), timeoutMs);
      events.forEach((event) => this.on(event, check));
      check();
    });
  }

  /** Clears recorded requests, counters and the queue, and restores the `start()` defaults. */
  reset(): void {
    this.requests.length = 0;
    this.queue.length = 0;
    this.aborted = 0;
    this.accepted = 0;
    this.reply = { ...this.defaults };
  }

  /** Stops every reply, destroys open sockets and resolves once the server is closed. */
  async close(): Promise<void> {
    this.closing = true;
    this.inFlight.forEach((controller) => controller.abort());
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const controller = new AbortController();
    const { signal } = controller;
    this.inFlight.add(controller);
    let faulted = false;
    let record: RecordedRequest | undefined;
    res.on('close', () => {
      this.inFlight.delete(controller);
      controller.abort();
      if (!record) return;
      if (res.writableFinished) this.emit('complete', record);
      // Deliberate resets and our own shutdown are not client aborts.
      else if (!faulted && !this.closing) {
        this.aborted++;
        this.emit('abort', record);
      }
    });

    const raw = await readBody(req);
    if (signal.aborted) return;
    const path = req.url ?? '/';
    if (req.method !== 'POST' || path.split('?')[0] !== CHAT_PATH) {
      return this.send(res, signal, 404, errorBody(404, `Invalid URL (${req.method} ${path})`));
    }
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    record = { method: req.method, path, headers: req.headers, body };
    this.requests.push(record);
    this.emit('request', record);

    const reply = this.queue.shift() ?? this.reply;
    if (reply.hang) return;
    if (reply.status) return this.fail(res, signal, reply);
    if (reply.rejectStreamOptions && typeof body === 'object' && body?.stream_options !== undefined) {
      return this.fail(res, signal, { status: 400, errorMessage: 'Unrecognized request argument supplied: stream_options' });
    }
    if (typeof body !== 'object' || body === null) {
      return this.send(res, signal, 400, errorBody(400, 'We could not parse the JSON body of your request.'), reply);
    }

    const meta = completionMeta(typeof body.model === 'string' ? body.model : 'mock-model');
    const contents = contentsOf(reply);
    const usage = estimateUsage(body.messages, contents.length);
    if (!body.stream) return this.send(res, signal, 200, completionBody(meta, contents.join(''), usage), reply);

    const wantsUsage = reply.usageChunk || body.stream_options?.include_usage === true;
    const frames = sseFrames(meta, contents, {
      roleChunk: reply.roleChunk,
      usage: wantsUsage ? usage : undefined,
      finishChunk: !reply.noFinishReason,
    });
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': meta.id });
    res.flushHeaders();
    // One event-loop turn lets what was written reach the socket before it is destroyed.
    const reset = async () => {
      faulted = true;
      await new Promise((resolve) => setImmediate(resolve));
      res.destroy();
    };
    if (reply.resetAfterChunks === 0) return reset();
    await write(res, signal, frames.head, reply.fragmentBytes);
    for (const [index, frame] of frames.contents.entries()) {
      if (reply.delayMs) await pause(reply.delayMs, signal);
      if (signal.aborted) return;
      await write(res, signal, frame, reply.fragmentBytes);
      if (index + 1 === reply.resetAfterChunks) return reset();
      if (index + 1 === reply.stallAfterChunks) return; // open until the client gives up
      if (index + 1 === reply.invalidChunkAfter) await write(res, signal, 'data: {"choices": [{"delta": \n\n');
      if (index + 1 === reply.errorEventAfter) {
        await write(res, signal, `data: ${JSON.stringify(errorBody(500, 'The server had an error mid-stream'))}\n\n`);
        return void (signal.aborted || res.end());
      }
    }
    if (!reply.cutShort) await write(res, signal, frames.tail, reply.fragmentBytes);
    if (!signal.aborted) res.end();
  }

  /** An error answer: an OpenAI error body, or a proxy's HTML page. */
  private fail(res: ServerResponse, signal: AbortSignal, reply: MockReply) {
    const status = reply.status!;
    if (reply.retryAfterMs !== undefined) res.setHeader('retry-after-ms', String(reply.retryAfterMs));
    if (!reply.html) return this.send(res, signal, status, errorBody(status, reply.errorMessage), reply);
    const page = `<html><head><title>${status}</title></head><body><h1>${status} Bad Gateway</h1><p>nginx</p></body></html>`;
    res.writeHead(status, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(page) });
    res.end(page);
  }

  private async send(res: ServerResponse, signal: AbortSignal, status: number, body: unknown, reply: MockReply = {}) {
    const json = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    await write(res, signal, json, reply.fragmentBytes);
    if (!signal.aborted) res.end();
  }
}

/** The content deltas a reply streams, ignoring faults. */
function contentsOf(reply: MockReply): string[] {
  if (reply.chunks) return reply.chunks;
  if (reply.chunkCount !== undefined) return Array.from({ length: reply.chunkCount }, (_, i) => `chunk ${i} `);
  return splitWords(reply.text ?? DEFAULT_TEXT);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    const done = () => resolve(Buffer.concat(parts).toString('utf8'));
    req.on('end', done).on('error', done).on('close', done);
  });
}

/** Writes `data`, in `fragmentBytes` pieces flushed one event-loop turn apart, honouring backpressure. */
async function write(res: ServerResponse, signal: AbortSignal, data: string, fragmentBytes?: number): Promise<void> {
  const bytes = Buffer.from(data);
  const size = fragmentBytes && fragmentBytes > 0 ? fragmentBytes : bytes.length;
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (signal.aborted) return;
    if (!res.write(bytes.subarray(offset, offset + size))) await drained(res, signal);
    if (size < bytes.length) await new Promise((resolve) => setImmediate(resolve));
  }
}

function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
