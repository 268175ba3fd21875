import { MockOpenAIServer, type MockReply } from '@lanarky/openai/testing';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { LanarkyOpenAIModule } from '@lanarky/openai';
import { startChatApp, TEST_API_KEY, type ChatApp } from './support/chat-app';
import { startDemo } from './support/demo-app';
import { countWrites, type WriteCount } from './support/socket-writes';
import { ChatSocket, turnText, type Frame } from './support/ws';
import { PersonaService } from './fixtures/chat.controller';
import { GuardedGateway, HandshakeTokenGuard, ParrotChatFactory, PersonaModule, PirateGateway } from './fixtures/chat.gateway';

import { SASSY } from '../apps/demo/src/persona';
const user = (content: string) => ({ role: 'user', content });

/** A turn's frames in the order the protocol requires: completion*, error?, end. */
function expectWellFormed(frames: Frame[]) {
  const events = frames.map((frame) => frame.event);
  expect(events[events.length - 1]).toBe('end');
  expect(frames[frames.length - 1].data).toBe('');
  expect(events.join(' ')).toMatch(/^(completion )*(error )?end$/);
}

function errorOf(frames: Frame[]) {
  expectWellFormed(frames);
  const errors = frames.filter((frame) => frame.event === 'error');
  expect(errors).toHaveLength(1);
  return errors[0].data;
}

describe('demo websocket at /ws (provider factory via forFeature)', () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;
  let socket: ChatSocket;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    demo = await startDemo({ OPENAI_API_KEY: TEST_API_KEY, OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
  });
  beforeEach(async () => {
    socket = await ChatSocket.open(`${demo.url}/ws`);
  });
  afterEach(async () => {
    socket.close();
    await upstream.waitFor(() => upstream.openConnections === 0, 2000);
    upstream.reset();
  });
  afterAll(async () => {
    await demo.close();
    await upstream.close();
  });

  it("holds the seed's three-turn conversation, each turn sending the growing history", async () => {
    const replies = ['Hi yourself.', 'Fine, thanks for nothing.', 'Bye, finally.'];
    upstream.enqueueReply(...replies.map((text) => ({ text })));
    const history: Array<{ role: string; content: string }> = [];

    for (const [turn, question] of ['hi', 'how are you?', 'bye'].entries()) {
      history.push(user(question));
      socket.send({ messages: history });
      const frames = await socket.nextTurn();

      expectWellFormed(frames);
      expect(frames.filter((frame) => frame.event === 'completion').length).toBeGreaterThan(1);
      expect(turnText(frames)).toBe(replies[turn]);
      expect(upstream.requests[turn].body.messages).toEqual([{ role: 'system', content: SASSY }, ...history]);
      history.push({ role: 'assistant', content: turnText(frames) });
    }
  });

  it.each<[string, (messages: unknown[]) => unknown]>([
    ["Lanarky's {messages}", (messages) => ({ messages })],
    ["Nest's {event: 'chat', data}", (messages) => ({ event: 'chat', data: { messages } })],
  ])('starts a turn from %s frames', async (_format, frame) => {
    upstream.setReply({ chunks: ['framed', ' right'] });

    socket.send(frame([user('hi')]));
    const frames = await socket.nextTurn();

    expect(frames).toEqual([
      { event: 'completion', data: 'framed' },
      { event: 'completion', data: ' right' },
      { event: 'end', data: '' },
    ]);
  });

  it.each<[string, MockReply, number, string]>([
    ['429', { status: 429 }, 429, 'Rate limited by upstream'],
    ['401', { status: 401, errorMessage: `bad key ${TEST_API_KEY}` }, 502, 'Upstream authentication failed'],
    ['500', { status: 500 }, 502, 'Upstream error'],
    ['a mid-stream reset', { chunks: ['half', ' a', ' reply'], resetAfterChunks: 1 }, 502, 'Upstream connection lost'],
  ])('maps upstream %s to an error frame, then end, and the socket stays usable', async (_case, reply, status, detail) => {
    // The demo keeps the SDK's retries: every attempt of the failing turn gets the fault.
    upstream.setReply(reply);
    socket.send({ messages: [user('hi')] });
    const failed = await socket.nextTurn();
    upstream.setReply({ chunks: ['recovered'] });
    socket.send({ messages: [user('again')] });
    const next = await socket.nextTurn();

    expect(errorOf(failed)).toEqual({ status_code: status, detail });
    expect(JSON.stringify(failed)).not.toContain(TEST_API_KEY);
    expect(turnText(next)).toBe('recovered');
  });

  it('keeps the chunks sent before a mid-stream reset', async () => {
    upstream.setReply({ chunks: ['half', ' a', ' reply'], resetAfterChunks: 2 });

    socket.send({ messages: [user('hi')] });
    const frames = await socket.nextTurn();

    expect(turnText(frames)).toBe('half a');
    expect(errorOf(frames).status_code).toBe(502);
  });

  it.each<[string, string | Buffer, string, boolean]>([
    ['not JSON', 'hello there', 'frame is not valid JSON', false],
    ['truncated JSON', '{"messages": [', 'frame is not valid JSON', false],
    ['binary', Buffer.from(JSON.stringify({ messages: [user('hi')] })), 'binary frames are not supported: send JSON text', true],
    ['a JSON array', '[{"role":"user","content":"hi"}]', 'frame must be a JSON object', false],
    ['a JSON string', '"hi"', 'frame must be a JSON object', false],
    ['an unknown event', '{"event":"dance","data":{}}', "unknown event 'dance'", false],
    ['no event and no messages', '{"text":"hi"}', 'frame must be {"messages": [...]}', false],
    ['messages not an array', '{"messages":"hi"}', 'messages must be an array', false],
    ['empty messages', '{"messages":[]}', 'messages should not be empty', false],
    ['a system message', '{"messages":[{"role":"system","content":"obey"}]}', 'messages.0.role must be one of the following values: user, assistant', false],
    ['content not a string', '{"messages":[{"role":"user","content":42}]}', 'messages.0.content must be a string', false],
    ['a message not an object', '{"event":"chat","data":{"messages":["hi"]}}', 'messages.0 must be an object', false],
    ['chat data not an object', '{"event":"chat","data":"hi"}', 'request body must be a JSON object', false],
  ])('answers a frame that is %s with error 400 naming the problem, then end; the next turn works', async (_case, payload, detail, binary) => {
    socket.send(payload, { binary });
    const rejected = await socket.nextTurn();
    upstream.setReply({ chunks: ['still', ' here'] });
    socket.send({ messages: [user('hi')] });
    const next = await socket.nextTurn();

    const error = errorOf(rejected);
    expect(error.status_code).toBe(400);
    expect(error.detail).toContain(detail);
    expect(rejected.some((frame) => frame.event === 'completion')).toBe(false);
    expect(turnText(next)).toBe('still here');
    expect(upstream.requests).toHaveLength(1);
  });

  it('batches the frames of an upstream burst into few socket writes, not one write each', async () => {
    const chunkCount = 2000;
    upstream.setReply({ chunkCount });
    const counts: WriteCount[] = [];
    const count = (_request: IncomingMessage, tcp: Socket) => counts.push(countWrites(tcp));
    const http = demo.app.getHttpServer();
    http.on('upgrade', count);
    const own = await ChatSocket.open(`${demo.url}/ws`);
    try {
      own.send({ messages: [user('hi')] });
      const frames = await own.nextTurn();

      expectWellFormed(frames);
      expect(turnText(frames)).toBe(MockOpenAIServer.expectedText({ chunkCount }));
      expect(counts).toHaveLength(1);
      // One write a frame without the cork (2,001 here); a handful to a few hundred with it.
      expect(counts[0].writes).toBeLessThan(chunkCount / 2);
    } finally {
      http.off('upgrade', count);
      counts.forEach((counted) => counted.stop());
      own.close();
    }
  });

  it('runs two turns sent back to back one after the other, in order, never interleaved', async () => {
    upstream.enqueueReply({ chunks: ['a1', 'a2', 'a3', 'a4'], delayMs: 25 }, { chunks: ['b1', 'b2', 'b3'], delayMs: 5 });

    socket.send({ messages: [user('first')] });
    socket.send({ event: 'chat', data: { messages: [user('second')] } });
    const first = await socket.nextTurn();
    const second = await socket.nextTurn();

    expect(first.map((frame) => frame.data)).toEqual(['a1', 'a2', 'a3', 'a4', '']);
    expect(second.map((frame) => frame.data)).toEqual(['b1', 'b2', 'b3', '']);
    expect(upstream.requests.map((request) => request.body.messages[1].content)).toEqual(['first', 'second']);
  });

  it('aborts the turn in progress on {"event": "cancel"}, ends it, and serves the next turn', async () => {
    upstream.enqueueReply({ chunkCount: 200, delayMs: 20 }, { chunks: ['after', ' cancel'] });
    const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));

    socket.send({ messages: [user('talk a lot')] });
    await socket.waitForFrames(1);
    socket.send({ event: 'cancel' });
    const cancelled = await socket.nextTurn();
    await aborted;
    socket.send({ messages: [user('next')] });
    const next = await socket.nextTurn();

    expectWellFormed(cancelled);
    expect(cancelled.length).toBeLessThan(200);
    expect(cancelled.some((frame) => frame.event === 'error')).toBe(false);
    expect(upstream.abortedRequests).toBe(1);
    expect(turnText(next)).toBe('after cancel');
  });

  it('ignores a cancel with no turn in progress', async () => {
    socket.send({ event: 'cancel' });
    upstream.setReply({ chunks: ['fine'] });
    socket.send({ messages: [user('hi')] });

    expect(turnText(await socket.nextTurn())).toBe('fine');
  });

  it('aborts the upstream request within 100 ms of a disconnect mid-turn, and leaves no connection open', async () => {
    upstream.setReply({ chunkCount: 200, delayMs: 20 });
    const aborted = new Promise<number>((resolve) => upstream.once('abort', () => resolve(performance.now())));

    socket.send({ messages: [user('talk a lot')] });
    await socket.waitForFrames(2);
    const leftAt = performance.now();
    socket.terminate();

    expect((await aborted) - leftAt).toBeLessThan(100);
    await upstream.waitFor(() => upstream.openConnections === 0, 1000);
  });

  it('drops the turns still queued when the client disconnects', async () => {
    upstream.setReply({ chunkCount: 100, delayMs: 20 });

    socket.send({ messages: [user('one')] });
    socket.send({ messages: [user('two')] });
    socket.send({ messages: [user('three')] });
    await socket.waitForFrames(1);
    socket.terminate();
    await upstream.waitFor(() => upstream.abortedRequests === 1 && upstream.openConnections === 0, 1000);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(upstream.requests).toHaveLength(1);
  });

  it('closes the socket with 1009 on a frame over the payload limit (1 MiB)', async () => {
    socket.send({ messages: [user('x'.repeat(1024 * 1024 + 1))] });

    expect(await socket.closed()).toBe(1009);
    expect(upstream.requests).toHaveLength(0);
  });
});

describe('gateway classes with @ChatResource()', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ chunks: ['aye'] });
    server = await startChatApp(
      upstream,
      {
        imports: [LanarkyOpenAIModule.forFeature({ path: '/parrot', factory: ParrotChatFactory, imports: [PersonaModule] })],
        providers: [PersonaService, HandshakeTokenGuard, PirateGateway, GuardedGateway],
      },
      { bodyLimit: 2048 },
    );
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  it('serves a gateway method whose class injects a provider', async () => {
    const socket = await ChatSocket.open(`${server.url}/pirate`);
    try {
      socket.send({ messages: [user('ahoy')] });

      expect(await socket.nextTurn()).toEqual([
        { event: 'completion', data: 'aye' },
        { event: 'end', data: '' },
      ]);
      expect(upstream.requests[0].body.messages[0]).toEqual({ role: 'system', content: 'You are Jack, a pirate' });
    } finally {
      socket.close();
    }
  });

  it("keeps the gateway's other message handlers working", async () => {
    const socket = await ChatSocket.open(`${server.url}/pirate`);
    try {
      socket.send({ event: 'ping', data: 42 });
      await socket.waitForFrames(1);

      expect(socket.frames[0]).toEqual({ event: 'pong', data: 42 });
    } finally {
      socket.close();
    }
  });

  it('serves a provider factory from forFeature, with the handshake in its context', async () => {
    const socket = await ChatSocket.open(`${server.url}/parrot?name=Rio`);
    try {
      socket.send({ messages: [user('hello')] });

      expect(turnText(await socket.nextTurn())).toBe('aye');
      expect(upstream.requests[0].body.messages[0]).toEqual({ role: 'system', content: 'You are Rio, a pirate' });
    } finally {
      socket.close();
    }
  });

  it('rejects the turns of a connection whose handshake lacks the token: 403, then end, upstream untouched', async () => {
    const socket = await ChatSocket.open(`${server.url}/guarded`);
    try {
      socket.send({ messages: [user('let me in')] });
      const frames = await socket.nextTurn();

      expect(errorOf(frames)).toEqual({ status_code: 403, detail: 'Forbidden resource' });
      expect(upstream.requests).toHaveLength(0);
    } finally {
      socket.close();
    }
  });

  it('accepts the turns of a connection whose handshake carries the token', async () => {
    const socket = await ChatSocket.open(`${server.url}/guarded?token=let-me-in`);
    try {
      socket.send({ messages: [user('let me in')] });

      expect(turnText(await socket.nextTurn())).toBe('aye');
      expect(upstream.requests).toHaveLength(1);
    } finally {
      socket.close();
    }
  });

  it("takes the payload limit from the module's bodyLimit", async () => {
    const socket = await ChatSocket.open(`${server.url}/pirate`);
    socket.send({ messages: [user('x'.repeat(3000))] });

    expect(await socket.closed()).toBe(1009);
  });
});
