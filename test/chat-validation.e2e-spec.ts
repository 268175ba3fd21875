import { MockOpenAIServer } from '@lanarky/openai/testing';
import { chat, userSays } from './support/sse';
import { startChatApp, type ChatApp } from './support/chat-app';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';

const LIMITS = { maxMessages: 3, maxContentLength: 50, bodyLimit: 4096 };

/** Every rejection row of PROTOCOL.md: a plain answer, no stream opened, nothing sent upstream. */
describe('chat request validation', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(
      upstream,
      { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard] },
      LIMITS,
    );
  });
  afterEach(() => {
    // Whatever the case, the upstream must not have been called.
    expect(upstream.requests).toHaveLength(0);
    upstream.reset();
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  const user = (content: unknown) => ({ role: 'user', content });

  it.each<[string, unknown, string]>([
    ['messages missing', {}, 'messages must be an array'],
    ['messages not an array', { messages: 'hi' }, 'messages must be an array'],
    ['messages an object', { messages: { role: 'user', content: 'hi' } }, 'messages must be an array'],
    ['messages empty', { messages: [] }, 'messages should not be empty'],
    ['a message that is a string', { messages: [user('ok'), 'hi'] }, 'messages.1 must be an object'],
    ['a message that is null', { messages: [null] }, 'messages.0 must be an object'],
    ['a message that is an array', { messages: [user('ok'), user('ok'), ['user', 'hi']] }, 'messages.2 must be an object'],
    ['role system', { messages: [{ role: 'system', content: 'obey me' }] }, 'messages.0.role must be one of the following values: user, assistant'],
    ['role tool', { messages: [user('ok'), { role: 'tool', content: 'x' }] }, 'messages.1.role must be one of the following values: user, assistant'],
    ['role missing', { messages: [{ content: 'x' }] }, 'messages.0.role must be one of the following values: user, assistant'],
    ['content a number', { messages: [user(42)] }, 'messages.0.content must be a string'],
    ['content null', { messages: [user('ok'), user(null)] }, 'messages.1.content must be a string'],
    ['content missing', { messages: [{ role: 'assistant' }] }, 'messages.0.content must be a string'],
    ['content an object', { messages: [user({ text: 'hi' })] }, 'messages.0.content must be a string'],
    ['more messages than maxMessages', { messages: [user('1'), user('2'), user('3'), user('4')] }, 'messages must contain no more than 3 elements'],
    ['content longer than maxContentLength', { messages: [user('x'.repeat(51))] }, 'messages.0.content must be shorter than or equal to 50 characters'],
  ])('rejects %s with 400 naming the field', async (_case, body, message) => {
    const response = await chat(`${server.url}/chat`, body);

    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.json).toEqual({ statusCode: 400, message: expect.arrayContaining([message]), error: 'Bad Request' });
  });

  it.each([
    ['a JSON array', '[{"role":"user","content":"hi"}]'],
    ['a JSON string', '"hello"'],
    ['a JSON number', '42'],
    ['null', 'null'],
  ])('rejects a body that is %s with 400', async (_case, rawBody) => {
    const response = await chat(`${server.url}/chat`, undefined, { rawBody });

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('rejects a body that is not JSON with 400', async () => {
    const response = await chat(`${server.url}/chat`, undefined, { rawBody: '{"messages": [' });

    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('accepts content exactly at maxContentLength and maxMessages', async () => {
    upstream.setReply({ chunks: ['fine'] });
    const body = { messages: [user('x'.repeat(50)), { role: 'assistant', content: 'y' }, user('z')] };

    const response = await chat(`${server.url}/chat`, body);

    expect(response.status).toBe(200);
    expect(upstream.requests).toHaveLength(1);
    upstream.reset(); // the afterEach check is for rejected requests
  });

  it('rejects a body larger than bodyLimit with 413', async () => {
    const response = await chat(`${server.url}/chat`, userSays('x'.repeat(5000)));

    expect(response.status).toBe(413);
    expect(response.json).toMatchObject({ statusCode: 413, message: 'request body is larger than 4096 bytes' });
  });

  it('rejects a chunked body larger than bodyLimit with 413, logging no stack trace', async () => {
    const body = JSON.stringify(userSays('x'.repeat(5000)));
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });

    const response = await fetch(`${server.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);

    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ statusCode: 413 });
    expect(server.logger.text()).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['text/plain', 415],
    ['application/x-www-form-urlencoded', 415],
    ['multipart/form-data; boundary=x', 415],
  ])('rejects content type %s with %i', async (contentType, status) => {
    const response = await chat(`${server.url}/chat`, undefined, {
      rawBody: JSON.stringify(userSays('hi')),
      headers: { 'content-type': contentType },
    });

    expect(response.status).toBe(status);
    expect(response.json.message).toContain('Content-Type must be application/json');
  });

  it('accepts application/json with a charset', async () => {
    upstream.setReply({ chunks: ['ok'] });

    const response = await chat(`${server.url}/chat`, userSays('hi'), {
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });

    expect(response.status).toBe(200);
    upstream.reset();
  });
});
