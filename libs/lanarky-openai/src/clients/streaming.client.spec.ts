import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamingClient, StreamingClientError, type StreamingEvent } from './streaming.client';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1 whose answer each test scripts. */
class SseServer {
  readonly seen: Seen[] = [];
  /** Resolves with whether the response ended normally, once its connection closes. */
  closed!: Promise<boolean>;
  handler: (res: ServerResponse) => unknown = (res) => res.end();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<SseServer> {
    const sse = new SseServer(createServer());
    sse.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (part: string) => (body += part));
      req.on('end', () => {
        sse.seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        sse.closed = new Promise((resolve) => res.on('close', () => resolve(res.writableFinished)));
        res.socket?.setNoDelay(true);
        void sse.handler(res);
      });
    });
    await new Promise<void>((resolve) => sse.server.listen(0, '127.0.0.1', resolve));
    return sse;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const streamHead = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
const tick = (ms = 10) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(events: AsyncIterable<StreamingEvent>): Promise<StreamingEvent[]> {
  const all: StreamingEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('StreamingClient', () => {
  let server: SseServer;
  let client: StreamingClient;

  beforeAll(async () => {
    server = await SseServer.start();
    client = new StreamingClient({ baseUrl: server.url, headers: { 'x-client': 'spec' } });
  });
  afterEach(() => {
    server.seen.length = 0;
  });
  afterAll(() => server.close());

  it('yields each event as it arrives, in order, before the stream ends', async () => {
    let sendSecond!: () => void;
    const secondAllowed = new Promise<void>((resolve) => (sendSecond = resolve));
    server.handler = async (res) => {
      res.writeHead(200, streamHead);
      res.write('event: completion\ndata: one\n\n');
      // The second event waits for the client to have yielded the first.
      await secondAllowed;
      res.end('event: completion\ndata: two\n\nevent: error\ndata: {"status_code":502}\n\n');
    };

    const events: StreamingEvent[] = [];
    for await (const event of client.streamResponse('POST', '/chat')) {
      events.push(event);
      if (events.length === 1) sendSecond();
    }

    expect(events).toEqual([
      { event: 'completion', data: 'one' },
      { event: 'completion', data: 'two' },
      { event: 'error', data: '{"status_code":502}' },
    ]);
  });

  it('sends the method, the params as query string, json with its content type and the headers', async () => {
    server.handler = (res) => res.writeHead(200, streamHead).end('data: ok\n\n');

    const events = await collect(
      client.streamResponse('POST', '/chat?x=1', {
        params: { stream: 'true', n: 2, skip: undefined },
        json: { messages: [{ role: 'user', content: 'héllo' }] },
        headers: { 'x-request': 'r1' },
      }),
    );

    expect(events).toEqual([{ event: 'message', data: 'ok' }]);
    expect(server.seen[0]).toMatchObject({ method: 'POST', url: '/chat?x=1&stream=true&n=2' });
    expect(server.seen[0].headers).toMatchObject({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'x-client': 'spec',
      'x-request': 'r1',
    });
    expect(JSON.parse(server.seen[0].body)).toEqual({ messages: [{ role: 'user', content: 'héllo' }] });
  });

  it('sends no body and no content type without json', async () => {
    server.handler = (res) => res.writeHead(200, streamHead).end();

    expect(await collect(client.streamResponse('GET', 'events'))).toEqual([]);
    expect(server.seen[0]).toMatchObject({ method: 'GET', url: '/events', body: '' });
    expect(server.seen[0].headers['content-type']).toBeUndefined();
  });

  it("reassembles an event's data split over several data: lines with \\n", async () => {
    server.handler = (res) =>
      res.writeHead(200, streamHead).end('event: completion\ndata: line one\ndata: line two\ndata:\ndata: \r\n\r\n');

    expect(await collect(client.streamResponse('POST', '/chat'))).toEqual([
      { event: 'completion', data: 'line one\nline two\n\n' },
    ]);
  });

  it('carries the id: field of the events that have one', async () => {
    server.handler = (res) => res.writeHead(200, streamHead).end('id: 1\nevent: completion\ndata: a\n\nevent: completion\ndata: b\n\n: ping\n\nid: 3\ndata: c\n\n');

    expect(await collect(client.streamResponse('POST', '/chat'))).toEqual([
      { event: 'completion', data: 'a', id: '1' },
      { event: 'completion', data: 'b' },
      { event: 'message', data: 'c', id: '3' },
    ]);
  });

  it('keeps multi-byte characters split across TCP writes intact', async () => {
    const text = 'é€😀 done';
    const bytes = Buffer.from(`event: completion\ndata: ${text}\n\n`);
    server.handler = async (res) => {
      res.writeHead(200, streamHead);
      // One byte per write, flushed apart: every multi-byte character is cut.
      for (const byte of bytes) {
        res.write(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    };

    expect(await collect(client.streamResponse('POST', '/chat'))).toEqual([{ event: 'completion', data: text }]);
  });

  it('throws StreamingClientError with status, body and parsed json on a non-2xx answer', async () => {
    const body = { statusCode: 400, message: ['messages should not be empty'], error: 'Bad Request' };
    server.handler = (res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(body));

    const error = await collect(client.streamResponse('POST', '/chat', { json: { messages: [] } })).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StreamingClientError);
    expect(error).toMatchObject({ status: 400, body: JSON.stringify(body), json: body });
    expect((error as Error).message).toBe(`HTTP 400: ${JSON.stringify(body)}`);
  });

  it('leaves json undefined when the error body is not JSON', async () => {
    server.handler = (res) => res.writeHead(502, { 'content-type': 'text/plain' }).end('Bad gateway\n');

    const error = await collect(client.streamResponse('GET', '/')).catch((e: unknown) => e);

    expect(error).toMatchObject({ status: 502, body: 'Bad gateway\n', json: undefined, message: 'HTTP 502: Bad gateway ' });
  });

  it('aborts the request mid-stream when the signal fires, and the server sees the connection close', async () => {
    server.handler = (res) => {
      res.writeHead(200, streamHead);
      res.write('event: completion\ndata: first\n\n');
    };
    const controller = new AbortController();

    const events: StreamingEvent[] = [];
    const error = await (async () => {
      for await (const event of client.streamResponse('POST', '/chat', { signal: controller.signal })) {
        events.push(event);
        controller.abort();
      }
    })().catch((e: unknown) => e);

    expect(events).toEqual([{ event: 'completion', data: 'first' }]);
    expect((error as Error).name).toBe('AbortError');
    expect(await server.closed).toBe(false);
  });

  it('cancels the response when the loop is left early, so the server sees the client go', async () => {
    server.handler = async (res) => {
      res.writeHead(200, streamHead);
      for (let i = 0; i < 500 && !res.destroyed; i++) {
        res.write(`event: completion\ndata: chunk ${i}\n\n`);
        await tick();
      }
      res.end();
    };

    const events: StreamingEvent[] = [];
    for await (const event of client.streamResponse('POST', '/chat')) {
      events.push(event);
      if (events.length === 2) break;
    }
    const leftAt = Date.now();

    expect(events.map((event) => event.data)).toEqual(['chunk 0', 'chunk 1']);
    expect(await server.closed).toBe(false);
    expect(Date.now() - leftAt).toBeLessThan(1000);
  });

  it('uses the fetch it was given, and joins the base URL and path with one slash', async () => {
    const calls: string[] = [];
    const fetched = new StreamingClient({
      baseUrl: `${server.url}/api/`,
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    server.handler = (res) => res.writeHead(200, streamHead).end('data: via custom fetch\n\n');

    expect(await collect(fetched.streamResponse('POST', '/chat'))).toEqual([{ event: 'message', data: 'via custom fetch' }]);
    expect(calls).toEqual([`${server.url}/api/chat`]);
    expect(server.seen[0].url).toBe('/api/chat');
  });
});
