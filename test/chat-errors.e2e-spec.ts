import { MockOpenAIServer, type MockReply } from '@lanarky/openai/testing';
import { chat, completionText, userSays, type SseResponse } from './support/sse';
import { TEST_API_KEY, startChatApp, type ChatApp } from './support/chat-app';
import { freePort } from './support/network';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';

const fixtures = { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard] };

/** The one error event a failed stream ends with, parsed; fails unless its data is valid JSON. */
function errorEvent(response: SseResponse): { status_code: number; detail: string } {
  const errors = response.events.filter((event) => event.event === 'error');
  expect(errors).toHaveLength(1);
  expect(response.events[response.events.length - 1].event).toBe('error');
  return JSON.parse(errors[0].data);
}

describe('error events', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(upstream, fixtures);
  });
  afterEach(() => {
    const everything = server.logger.text();
    expect(everything).not.toContain(TEST_API_KEY);
    expect(everything).not.toMatch(/\n\s+at /);
    upstream.reset();
    server.logger.lines.length = 0;
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  it.each<[string, number, string, MockReply]>([
    ['400 bad request', 400, "Invalid value for 'temperature'", { status: 400, errorMessage: "Invalid value for 'temperature'" }],
    ['404 unknown model', 404, 'The model `gpt-9` does not exist', { status: 404, errorMessage: 'The model `gpt-9` does not exist' }],
    ['422 context too long', 422, 'maximum context length is 8192 tokens', { status: 422, errorMessage: 'maximum context length is 8192 tokens' }],
    ['401 key rejected', 502, 'Upstream authentication failed', { status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` }],
    ['403 forbidden', 502, 'Upstream authentication failed', { status: 403, errorMessage: `Key ${TEST_API_KEY} may not use this model` }],
    ['429 rate limited', 429, 'Rate limited by upstream', { status: 429, errorMessage: 'Rate limit reached' }],
    ['500 server error', 502, 'Upstream error', { status: 500, errorMessage: 'The server had an error: trace 8a7f' }],
    ['503 overloaded', 502, 'Upstream error', { status: 503, errorMessage: 'overloaded' }],
  ])('maps upstream %s to status %i', async (_case, status, detail, reply) => {
    upstream.setReply(reply);

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.status).toBe(200);
    expect(errorEvent(response)).toEqual({ status_code: status, detail });
    expect(response.raw).toContain(`event: error\nid: 1\ndata: {"status_code":${status},"detail":`);
    expect(response.raw).not.toContain(TEST_API_KEY);
  });

  it.each([true, false])('maps the same way when stream=%s', async (stream) => {
    upstream.setReply({ status: 429 });

    const response = await chat(`${server.url}/chat?stream=${stream}`, userSays('hi'));

    expect(errorEvent(response)).toEqual({ status_code: 429, detail: 'Rate limited by upstream' });
  });

  it('ends with 502 Upstream connection lost when upstream resets mid-stream, after the chunks it sent', async () => {
    upstream.setReply({ chunks: ['one', ' two', ' three', ' four'], resetAfterChunks: 2 });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(completionText(response)).toBe('one two');
    expect(errorEvent(response)).toEqual({ status_code: 502, detail: 'Upstream connection lost' });
  });

  it('ends with 502 when upstream resets right after its headers', async () => {
    upstream.setReply({ chunks: ['never'], resetAfterChunks: 0 });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.events.filter((event) => event.event === 'completion')).toHaveLength(0);
    expect(errorEvent(response)).toEqual({ status_code: 502, detail: 'Upstream connection lost' });
  });

  it('answers 500 Internal Server Error and logs class and method when the factory returns no resource', async () => {
    const response = await chat(`${server.url}/not-a-resource`, userSays('hi'));

    expect(errorEvent(response)).toEqual({ status_code: 500, detail: 'Internal Server Error' });
    expect(server.logger.text()).toContain('ChatFixtureController.notAResource returned an instance of Object');
    expect(upstream.requests).toHaveLength(0);
  });

  it('answers 500 Internal Server Error when the factory throws, without its message', async () => {
    const response = await chat(`${server.url}/broken`, userSays('hi'));

    expect(errorEvent(response)).toEqual({ status_code: 500, detail: 'Internal Server Error' });
    expect(response.raw).not.toContain('factory bug');
    expect(server.logger.text()).toContain('ChatFixtureController.broken');
  });

  it('never puts the API key in the request log line nor the events', async () => {
    upstream.setReply({ status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` });

    const response = await chat(`${server.url}/chat`, userSays('hi'));

    expect(response.raw).not.toContain(TEST_API_KEY);
    expect(server.logger.text()).toContain('ChatFixtureController.chat answered 502 Upstream authentication failed');
    // The upstream did receive the key: it is only kept from clients and logs.
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
  });
});

describe('upstream out of reach', () => {
  it('maps a refused connection to 502 Upstream connection lost', async () => {
    const port = await freePort();
    const upstream = await MockOpenAIServer.start();
    const server = await startChatApp(upstream, fixtures, { baseURL: `http://127.0.0.1:${port}/v1` });
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(errorEvent(response)).toEqual({ status_code: 502, detail: 'Upstream connection lost' });
    } finally {
      await server.close();
      await upstream.close();
    }
  });

  it('maps an upstream that never answers to 504 Upstream timeout', async () => {
    const upstream = await MockOpenAIServer.start({ hang: true });
    const server = await startChatApp(upstream, fixtures, { timeout: 300 });
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(errorEvent(response)).toEqual({ status_code: 504, detail: 'Upstream timeout' });
      expect(upstream.requests).toHaveLength(1);
    } finally {
      await server.close();
      await upstream.close();
    }
  });
});
