import { connect } from 'node:net';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { chat, completionText, userSays } from './support/sse';
import { startChatApp, type ChatApp } from './support/chat-app';
import { ChatSocket, turnText } from './support/ws';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';
import { PirateGateway } from './fixtures/chat.gateway';

/** 20 MB of reply, as fast as upstream can send it: far more than socket buffers and the 1 MiB limits. */
const FLOOD = { chunks: Array.from({ length: 20_000 }, (_, index) => `${index}`.padEnd(1000, '.')) };

describe('backpressure: a client that stops reading', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(upstream, {
      controllers: [ChatFixtureController],
      providers: [PersonaService, TokenGuard, PirateGateway],
    });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  it('SSE: the stream is dropped past the pending-data limit and its upstream aborted', async () => {
    upstream.setReply(FLOOD);
    const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));
    const { port } = new URL(server.url);
    const body = JSON.stringify(userSays('flood me'));
    const socket = connect(Number(port), '127.0.0.1');
    socket.write(
      `POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    // Read the headers, then stop reading for good.
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();

    await aborted;
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      socket.once('close', () => (clearTimeout(timer), resolve(true)));
      socket.resume(); // drain what the kernel still holds, so the close can be seen
    });

    expect(upstream.abortedRequests).toBe(1);
    expect(closed).toBe(true);
    upstream.setReply({ chunks: ['still', ' here'] });
    expect(completionText(await chat(`${server.url}/chat`, userSays('hi')))).toBe('still here');
  });

  it('websocket: the socket is dropped past the buffered-bytes limit and its upstream aborted', async () => {
    upstream.setReply(FLOOD);
    const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));
    const socket = await ChatSocket.open(`${server.url}/pirate`);
    socket.send({ messages: [{ role: 'user', content: 'flood me' }] });
    await socket.waitForFrames(1);
    (socket.socket as unknown as { _socket: { pause(): void } })._socket.pause();

    await aborted;

    expect(upstream.abortedRequests).toBe(1);
    expect(server.logger.text()).toContain('A websocket client is not reading');
    socket.terminate();
    upstream.setReply({ chunks: ['still', ' here'] });
    const next = await ChatSocket.open(`${server.url}/pirate`);
    next.send({ messages: [{ role: 'user', content: 'hi' }] });
    expect(turnText(await next.nextTurn())).toBe('still here');
    next.close();
  });
});
