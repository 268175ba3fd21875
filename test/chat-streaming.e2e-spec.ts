import { MockOpenAIServer } from '@lanarky/openai/testing';
import type { IncomingMessage } from 'node:http';
import { chat, completionText, postChat, userSays } from './support/sse';
import { startChatApp, type ChatApp } from './support/chat-app';
import { countWrites, type WriteCount } from './support/socket-writes';
import { ChatFixtureController, PersonaService, SASSY, TokenGuard } from './fixtures/chat.controller';

describe('@ChatResource over HTTP (SSE)', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(upstream, { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard] });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  it('streams one completion event per upstream delta, with the protocol headers', async () => {
    const chunks = ['Hello', ' there', ',', ' human'];
    upstream.setReply({ chunks });

    const response = await chat(`${server.url}/chat?stream=true`, userSays('hi'));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toContain('no-cache');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.events.map((event) => [event.event, event.data])).toEqual(
      chunks.map((chunk) => ['completion', chunk]),
    );
    expect(response.raw).toContain('event: completion\nid: 1\ndata: Hello\n\n');
  });

  it('batches the events of an upstream burst into few socket writes, not one write each', async () => {
    const chunkCount = 2000;
    upstream.setReply({ chunkCount });
    const counts: WriteCount[] = [];
    const count = (request: IncomingMessage) => counts.push(countWrites(request.socket));
    const http = server.app.getHttpServer();
    http.on('request', count);
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(response.events).toHaveLength(chunkCount);
      expect(completionText(response)).toBe(MockOpenAIServer.expectedText({ chunkCount }));
      expect(counts).toHaveLength(1);
      // One write an event without the cork (2,003 here); a handful alone with it, a few hundred
      // when the reader in this same process lags and the socket buffer fills.
      expect(counts[0].writes).toBeLessThan(chunkCount / 2);
    } finally {
      http.off('request', count);
      counts.forEach((counted) => counted.stop());
    }
  });

  it('streams by default, as the demo does', async () => {
    upstream.setReply({ chunks: ['a', 'b', 'c'] });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events.map((event) => event.data)).toEqual(['a', 'b', 'c']);
    expect(upstream.requests[0].body.stream).toBe(true);
  });

  it('sends the whole reply in exactly one event with stream=false', async () => {
    upstream.setReply({ text: 'One reply, all at once.' });

    const response = await chat(`${server.url}/chat?stream=false`, userSays('hi'));

    expect(response.events).toHaveLength(1);
    expect(response.events[0]).toMatchObject({ event: 'completion', data: 'One reply, all at once.' });
    expect(upstream.requests[0].body.stream).toBeFalsy();
  });

  it('prepends the system prompt to the conversation upstream sees', async () => {
    const conversation = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'what now?' },
      { role: 'user', content: 'tell me a joke' },
    ];

    await chat(`${server.url}/chat`, { messages: conversation });

    expect(upstream.requests).toHaveLength(1);
    expect(upstream.requests[0].body.messages).toEqual([{ role: 'system', content: SASSY }, ...conversation]);
  });

  it('strips fields a client adds to its messages before they reach upstream', async () => {
    await chat(`${server.url}/chat`, { messages: [{ role: 'user', content: 'hi', name: 'mallory' }], extra: 1 });

    expect(upstream.requests[0].body.messages[1]).toEqual({ role: 'user', content: 'hi' });
  });

  it('gives the factory its query parameters through Nest pipes', async () => {
    await chat(`${server.url}/params?temperature=0.25`, userSays('hi'));

    expect(upstream.requests[0].body).toMatchObject({ temperature: 0.25, max_tokens: 64, stream: true });
  });

  it('answers a pipe-rejected factory parameter with a plain 400, before upstream', async () => {
    const response = await chat(`${server.url}/params?temperature=warm`, userSays('hi'));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    expect(upstream.requests).toHaveLength(0);
  });

  it('lets the factory use an injected provider and request headers', async () => {
    await chat(`${server.url}/persona`, userSays('ahoy'), { headers: { 'x-persona': 'Jack' } });

    expect(upstream.requests[0].body.messages[0]).toEqual({ role: 'system', content: 'You are Jack, a pirate' });
  });

  it('awaits an async factory', async () => {
    upstream.setReply({ chunks: ['late', ' but', ' here'] });

    const response = await chat(`${server.url}/async?model=my-model`, userSays('hi'));

    expect(completionText(response)).toBe('late but here');
    expect(upstream.requests[0].body.model).toBe('my-model');
  });

  it('uses the module default model when the factory names none', async () => {
    await chat(`${server.url}/chat`, userSays('hi'));

    expect(upstream.requests[0].body.model).toBe('gpt-4o-mini');
  });

  it('runs guards on the method before anything else', async () => {
    const refused = await chat(`${server.url}/guarded`, userSays('hi'));
    const allowed = await chat(`${server.url}/guarded`, userSays('hi'), { headers: { 'x-token': 'let-me-in' } });

    expect(refused.status).toBe(403);
    expect(allowed.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
  });

  it.each([
    ['\\n', 'first line\nsecond line'],
    ['\\r\\n', 'first line\r\nsecond line'],
    ['\\r', 'first line\rsecond line'],
    ['a trailing newline', 'ends with a break\n'],
    ['a leading newline', '\nstarts with a break'],
    ['blank lines', 'para one\n\n\npara two'],
    ['a lone newline', '\n'],
  ])('frames a chunk with %s as data lines a spec parser reassembles', async (_name, chunk) => {
    upstream.setReply({ chunks: ['before ', chunk, ' after'] });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events.map((event) => event.data)).toEqual(['before ', chunk.replace(/\r\n|\r/g, '\n'), ' after']);
  });

  it('keeps leading spaces of a chunk', async () => {
    upstream.setReply({ chunks: ['  two spaces', ' one'] });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events.map((event) => event.data)).toEqual(['  two spaces', ' one']);
  });

  it('delivers emoji and CJK text intact when upstream splits their bytes', async () => {
    const chunks = ['你好', '，世界', ' 👋🏽', ' café', ' 🧑‍💻 done'];
    upstream.setReply({ chunks, fragmentBytes: 1 });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events.map((event) => event.data)).toEqual(chunks);
  });

  it('sends no event for role-only and usage-only chunks (empty choices)', async () => {
    upstream.setReply({ chunks: ['only', ' text'], roleChunk: true, usageChunk: true });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events.map((event) => event.data)).toEqual(['only', ' text']);
    expect(response.events.every((event) => event.event === 'completion')).toBe(true);
  });

  it('streams a long reply completely and in order', async () => {
    const reply = { chunkCount: 500 };
    upstream.setReply(reply);

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events).toHaveLength(500);
    expect(completionText(response)).toBe(MockOpenAIServer.expectedText(reply));
  });

  it('serves concurrent streams without mixing them', async () => {
    upstream.setReply({ chunkCount: 30, delayMs: 1 });

    const replies = await Promise.all(Array.from({ length: 20 }, () => chat(`${server.url}/chat`, userSays('hi'))));

    for (const reply of replies) {
      expect(completionText(reply)).toBe(MockOpenAIServer.expectedText({ chunkCount: 30 }));
    }
  });

  it('reads the body once: a second request on the same app behaves the same', async () => {
    const first = await postChat(`${server.url}/chat`, userSays('one'));
    await first.text();
    const second = await chat(`${server.url}/chat`, userSays('two'));

    expect(second.status).toBe(200);
    expect(upstream.requests.map((request) => request.body.messages[1].content)).toEqual(['one', 'two']);
  });
});

describe('@ChatResource keep-alive', () => {
  it('sends a `: ping` comment while upstream is quiet', async () => {
    const upstream = await MockOpenAIServer.start({ chunks: ['slow', ' reply'], delayMs: 120 });
    const server = await startChatApp(
      upstream,
      { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard] },
      { keepAliveInterval: 40 },
    );
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(response.comments.length).toBeGreaterThan(0);
      expect(response.comments.every((comment) => comment.trim() === 'ping')).toBe(true);
      expect(response.raw).toContain('\n: ping\n\n');
      expect(completionText(response)).toBe('slow reply');
    } finally {
      await server.close();
      await upstream.close();
    }
  });
});
