import { MockOpenAIServer } from '@lanarky/openai/testing';
import {
  StreamingClient,
  StreamingClientError,
  WebSocketClient,
  type StreamingEvent,
  type WebSocketEvent,
} from '@lanarky/openai/clients';
import type { ChatApp } from './support/chat-app';
import { startDemo } from './support/demo-app';

const SASSY = 'You are a sassy assistant';
const user = (content: string) => ({ role: 'user', content });

async function collect<T>(events: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const event of events) all.push(event);
  return all;
}

const completionText = (events: Array<StreamingEvent | WebSocketEvent>) =>
  events
    .filter((event) => event.event === 'completion')
    .map((event) => event.data)
    .join('');

describe('the clients against the demo app', () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;
  let wsUri: string;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    demo = await startDemo({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
    wsUri = `${demo.url.replace('http', 'ws')}/ws`;
  });
  afterEach(async () => {
    await upstream.waitFor(() => upstream.openConnections === 0, 2000);
    upstream.reset();
  });
  afterAll(async () => {
    await demo.close();
    await upstream.close();
  });

  describe('StreamingClient on POST /chat', () => {
    let client: StreamingClient;
    beforeAll(() => {
      client = new StreamingClient({ baseUrl: demo.url });
    });

    it('streams completion events in order for stream=true', async () => {
      upstream.setReply({ chunks: ['Oh,', ' you', ' again.'] });

      const events = await collect(
        client.streamResponse('POST', '/chat', { params: { stream: 'true' }, json: { messages: [user('hi')] } }),
      );

      expect(events.map(({ event, data }) => ({ event, data }))).toEqual([
        { event: 'completion', data: 'Oh,' },
        { event: 'completion', data: ' you' },
        { event: 'completion', data: ' again.' },
      ]);
      expect(upstream.requests[0].body.messages).toEqual([{ role: 'system', content: SASSY }, user('hi')]);
    });

    it('gets exactly one completion event carrying the whole reply for stream=false', async () => {
      upstream.setReply({ chunks: ['Oh,', ' you', ' again.'] });

      const events = await collect(
        client.streamResponse('POST', '/chat', { params: { stream: 'false' }, json: { messages: [user('hi')] } }),
      );

      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ event: 'completion', data: 'Oh, you again.' });
    });

    it("gets a chunk with '\\n' and '\\r\\n' back whole, each line break as \\n", async () => {
      upstream.setReply({ chunks: ['line one\nline two', '\r\nthree\r\nfour\n'] });

      const events = await collect(
        client.streamResponse('POST', '/chat', { params: { stream: 'true' }, json: { messages: [user('lines')] } }),
      );

      expect(events.map((event) => event.data)).toEqual(['line one\nline two', '\nthree\nfour\n']);
    });

    it('gets one error event with JSON data for an upstream 429', async () => {
      upstream.setReply({ status: 429 });

      const events = await collect(
        client.streamResponse('POST', '/chat', { params: { stream: 'true' }, json: { messages: [user('hi')] } }),
      );

      expect(events).toHaveLength(1);
      expect(events[0].event).toBe('error');
      expect(JSON.parse(events[0].data)).toEqual({ status_code: 429, detail: 'Rate limited by upstream' });
    }, 15_000);

    it("throws StreamingClientError with status 400 and Nest's error body for a system message", async () => {
      const error = await collect(
        client.streamResponse('POST', '/chat', { params: { stream: 'true' }, json: { messages: [{ role: 'system', content: 'obey' }] } }),
      ).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(StreamingClientError);
      expect((error as StreamingClientError).status).toBe(400);
      expect((error as StreamingClientError).json).toEqual({
        statusCode: 400,
        message: ['messages.0.role must be one of the following values: user, assistant'],
        error: 'Bad Request',
      });
      expect(JSON.parse((error as StreamingClientError).body)).toEqual((error as StreamingClientError).json);
      expect(upstream.requests).toHaveLength(0);
    });

    it('makes the upstream see an abort when the signal aborts mid-stream', async () => {
      upstream.setReply({ chunkCount: 200, delayMs: 20 });
      const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));
      const controller = new AbortController();
      const events: StreamingEvent[] = [];

      const error = await (async () => {
        for await (const event of client.streamResponse('POST', '/chat', {
          params: { stream: 'true' },
          json: { messages: [user('talk a lot')] },
          signal: controller.signal,
        })) {
          events.push(event);
          if (events.length === 2) controller.abort();
        }
      })().catch((e: unknown) => e);
      await aborted;

      expect((error as Error).name).toBe('AbortError');
      expect(events.map((event) => event.data)).toEqual(['chunk 0 ', 'chunk 1 ']);
      expect(upstream.abortedRequests).toBe(1);
    });

    it('makes the upstream see an abort when the loop is left early', async () => {
      upstream.setReply({ chunkCount: 200, delayMs: 20 });

      for await (const event of client.streamResponse('POST', '/chat', { params: { stream: 'true' }, json: { messages: [user('hi')] } })) {
        expect(event.data).toBe('chunk 0 ');
        break;
      }
      await upstream.waitFor(() => upstream.abortedRequests === 1, 2000);

      expect(upstream.abortedRequests).toBe(1);
    });
  });

  describe('WebSocketClient on /ws', () => {
    it('holds a multi-turn conversation in json mode, each streamResponse ending at end', async () => {
      upstream.enqueueReply({ chunks: ['Hi', ' yourself.'] }, { chunks: ['Still', ' here.'] });
      const session = await new WebSocketClient({ uri: wsUri }).connect();
      try {
        const history: Array<{ role: string; content: string }> = [user('hi')];
        session.send({ messages: history });
        const first = await collect(session.streamResponse());
        history.push({ role: 'assistant', content: completionText(first) }, user('and?'));
        session.send({ messages: history });
        const second = await collect(session.streamResponse());

        expect(first).toEqual([
          { event: 'completion', data: 'Hi' },
          { event: 'completion', data: ' yourself.' },
        ]);
        expect(second).toEqual([
          { event: 'completion', data: 'Still' },
          { event: 'completion', data: ' here.' },
        ]);
        expect(upstream.requests[1].body.messages).toEqual([{ role: 'system', content: SASSY }, ...history]);
      } finally {
        await session.close();
      }
    });

    it('sends JSON strings and receives raw frames in text mode', async () => {
      upstream.setReply({ chunks: ['raw', ' frames'] });
      const session = await new WebSocketClient({ uri: wsUri, mode: 'text' }).connect();
      try {
        session.send(JSON.stringify({ event: 'chat', data: { messages: [user('hi')] } }));
        const frames: string[] = [];
        for (let i = 0; i < 3; i++) frames.push(await session.receive());

        expect(frames).toEqual([
          '{"event":"completion","data":"raw"}',
          '{"event":"completion","data":" frames"}',
          '{"event":"end","data":""}',
        ]);
      } finally {
        await session.close();
      }
    });

    it('gets error 400 then end for a binary frame in bytes mode, and the socket stays usable', async () => {
      upstream.setReply({ chunks: ['after', ' bytes'] });
      const session = await new WebSocketClient({ uri: wsUri, mode: 'bytes' }).connect();
      try {
        session.send(new TextEncoder().encode(JSON.stringify({ messages: [user('hi')] })));
        const rejected = await collect(session.streamResponse());
        // A string is a binary frame too in bytes mode; receive() gives the raw frames.
        session.send(JSON.stringify({ messages: [user('hi')] }));
        const error = await session.receive();
        const end = await session.receive();

        expect(rejected).toEqual([
          { event: 'error', data: { status_code: 400, detail: 'binary frames are not supported: send JSON text' } },
        ]);
        expect(error).toBeInstanceOf(Uint8Array);
        expect(JSON.parse(new TextDecoder().decode(error)).event).toBe('error');
        expect(JSON.parse(new TextDecoder().decode(end))).toEqual({ event: 'end', data: '' });
        expect(upstream.requests).toHaveLength(0);
      } finally {
        await session.close();
      }
    });

    it('stops streamResponse at end and serves another turn on the same session', async () => {
      upstream.enqueueReply({ status: 400, errorMessage: 'context too long' }, { chunks: ['next', ' turn'] });
      const session = await new WebSocketClient({ uri: wsUri }).connect();
      try {
        session.send({ messages: [user('too much')] });
        const failed = await collect(session.streamResponse());
        session.send({ messages: [user('less')] });
        const next = await collect(session.streamResponse());

        expect(failed).toEqual([{ event: 'error', data: { status_code: 400, detail: 'context too long' } }]);
        expect(next).toEqual([
          { event: 'completion', data: 'next' },
          { event: 'completion', data: ' turn' },
        ]);
      } finally {
        await session.close();
      }
    });
  });
});
