import { MockOpenAIServer } from '@lanarky/openai/testing';
import { chat, completionText, userSays } from './support/sse';
import { startChatApp, type ChatApp } from './support/chat-app';
import { ChatSocket, turnText } from './support/ws';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';
import { PirateGateway } from './fixtures/chat.gateway';

/** Hostile input: each gets a clear 4xx or error event, upstream sees nothing, the server goes on. */
describe('hostile input', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ chunks: ['fine'] });
    server = await startChatApp(upstream, {
      controllers: [ChatFixtureController],
      providers: [PersonaService, TokenGuard, PirateGateway],
    });
  });
  afterEach(async () => {
    expect(upstream.requests).toHaveLength(0);
    // And the server still answers.
    expect(completionText(await chat(`${server.url}/chat`, userSays('healthy?')))).toBe('fine');
    upstream.reset();
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  const raw = (rawBody: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof rawBody === 'string' ? rawBody : new Uint8Array(rawBody),
    });

  it('a body over the limit: 413', async () => {
    const response = await raw(JSON.stringify(userSays('x'.repeat(2 * 1024 * 1024))));

    expect(response.status).toBe(413);
  });

  it('100,000 messages: 413 at the default body limit', async () => {
    const messages = Array.from({ length: 100_000 }, () => ({ role: 'user', content: 'hi' }));

    const response = await raw(JSON.stringify({ messages }));

    expect(response.status).toBe(413);
  });

  it('101 small messages within the body limit: 400 naming maxMessages', async () => {
    const messages = Array.from({ length: 101 }, () => ({ role: 'user', content: 'hi' }));

    const response = await raw(JSON.stringify({ messages }));

    expect(response.status).toBe(400);
    expect((await response.json()).message).toEqual(['messages must contain no more than 100 elements']);
  });

  it('a huge single content under the body limit: 400 naming maxContentLength', async () => {
    const response = await raw(JSON.stringify(userSays('x'.repeat(200_000))));

    expect(response.status).toBe(400);
    expect((await response.json()).message).toEqual(['messages.0.content must be shorter than or equal to 100000 characters']);
  });

  it('deeply nested JSON: 400, not a stack overflow', async () => {
    const depth = 100_000;
    const response = await raw(`{"messages":[{"role":"user","content":${'['.repeat(depth)}${']'.repeat(depth)}}]}`);

    expect(response.status).toBe(400);
    expect((await response.json()).message).toEqual(['request body nests deeper than 16 levels']);
    expect(server.logger.text()).not.toMatch(/\n\s+at /);
  });

  it('nested objects where a message is expected: 400 naming the field', async () => {
    const response = await raw(JSON.stringify({ messages: [{ role: 'user', content: { a: { b: { c: 'd' } } } }] }));

    expect(response.status).toBe(400);
    expect((await response.json()).message).toEqual(['messages.0.content must be a string']);
  });

  it('invalid UTF-8: 400', async () => {
    const body = Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);

    const response = await raw(body);

    expect(response.status).toBe(400);
    expect((await response.json()).message).toBe('request body is not valid UTF-8');
  });

  it.each(['text/plain', 'application/xml', 'application/x-www-form-urlencoded'])('content type %s: 415', async (type) => {
    const response = await raw(JSON.stringify(userSays('hi')), { 'content-type': type });

    expect(response.status).toBe(415);
  });

  it.each(['maybe', '1', ''])('stream=%s (not a boolean): 400 from the pipe', async (value) => {
    const response = await chat(`${server.url}/chat?stream=${value}`, userSays('hi'));

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ statusCode: 400, message: 'Validation failed (boolean string is expected)' });
  });

  it('a websocket frame flood: the excess is refused with 429 and the socket closed, memory bounded', async () => {
    upstream.setReply({ chunks: ['slow'], delayMs: 2000 });
    const socket = await ChatSocket.open(`${server.url}/pirate`);
    // Invalid turns queue like any other (they answer in order), so they make a flood too.
    for (let index = 0; index < 1000; index++) {
      socket.send({ event: 'chat', data: 'not an object' });
    }

    expect(await socket.closed()).toBe(1008);
    const refusal = socket.frames.find((frame) => frame.event === 'error' && frame.data.status_code === 429);
    expect(refusal?.data.detail).toBe('too many turns waiting on this socket (at most 16)');
    upstream.setReply({ chunks: ['fine'] });
    const next = await ChatSocket.open(`${server.url}/pirate`);
    next.send({ messages: [{ role: 'user', content: 'hi' }] });
    expect(turnText(await next.nextTurn())).toBe('fine');
    next.close();
    upstream.reset();
  });
});
