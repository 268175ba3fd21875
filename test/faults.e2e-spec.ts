import { MockOpenAIServer, type MockReply } from '@lanarky/openai/testing';
import { chat, completionText, userSays, type SseResponse } from './support/sse';
import { TEST_API_KEY, startChatApp, type ChatApp } from './support/chat-app';
import { freePort } from './support/network';
import { ChatSocket, turnText, type Frame } from './support/ws';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';
import { PirateGateway } from './fixtures/chat.gateway';

const fixtures = { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard, PirateGateway] };
const HEALTHY: MockReply = { chunks: ['still', ' fine'] };

interface Fault {
  name: string;
  reply: MockReply;
  status: number;
  detail: string;
  /** Requests the upstream sees for one stream: the SDK retries some faults. */
  attempts: number;
}

/** The fault matrix: what upstream does, what the client must be told. */
const FAULTS: Fault[] = [
  { name: 'headers that never come', reply: { hang: true }, status: 504, detail: 'Upstream timeout', attempts: 1 },
  { name: 'a stream that stalls mid-way', reply: { chunkCount: 5, stallAfterChunks: 2 }, status: 504, detail: 'Upstream timeout', attempts: 1 },
  { name: 'a chunk that is not JSON', reply: { chunkCount: 5, invalidChunkAfter: 2 }, status: 502, detail: 'Upstream error', attempts: 1 },
  { name: 'an error object mid-stream', reply: { chunkCount: 5, errorEventAfter: 2 }, status: 502, detail: 'Upstream error', attempts: 1 },
  { name: 'a stream that ends without [DONE]', reply: { chunkCount: 3, cutShort: true }, status: 502, detail: 'Upstream connection lost', attempts: 1 },
  { name: 'an HTML 502 page', reply: { status: 502, html: true, retryAfterMs: 1 }, status: 502, detail: 'Upstream error', attempts: 3 },
  { name: 'a reset mid-stream (never retried)', reply: { chunkCount: 5, resetAfterChunks: 2 }, status: 502, detail: 'Upstream connection lost', attempts: 1 },
  { name: '429 after the retries', reply: { status: 429, retryAfterMs: 1 }, status: 429, detail: 'Rate limited by upstream', attempts: 3 },
  { name: '500 after the retries', reply: { status: 500, retryAfterMs: 1 }, status: 502, detail: 'Upstream error', attempts: 3 },
  { name: 'a rejected key', reply: { status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` }, status: 502, detail: 'Upstream authentication failed', attempts: 1 },
];

function sseError(response: SseResponse) {
  const errors = response.events.filter((event) => event.event === 'error');
  expect(errors).toHaveLength(1);
  return JSON.parse(errors[0].data);
}

function wsError(frames: Frame[]) {
  expect(frames.map((frame) => frame.event).join(' ')).toMatch(/^(completion )*error end$/);
  return frames.find((frame) => frame.event === 'error')!.data;
}

describe('upstream fault matrix, over SSE and websocket', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;
  const seen: string[] = [];

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    // Timeouts short enough for a test; the SDK's retries on (2, its default).
    server = await startChatApp(upstream, fixtures, { apiKey: TEST_API_KEY, timeout: 300, idleTimeout: 300, maxRetries: 2 });
  });
  afterEach(async () => {
    await upstream.waitFor(() => upstream.openConnections === 0, 2000);
    upstream.reset();
  });
  afterAll(async () => {
    // A fault-heavy session, and the key appeared nowhere a client or an operator could read it.
    expect(seen.join('\n')).not.toContain(TEST_API_KEY);
    expect(server.logger.text()).not.toContain(TEST_API_KEY);
    await server.close();
    await upstream.close();
  });

  describe.each(FAULTS)('$name', ({ reply, status, detail, attempts }) => {
    it(`SSE: error ${status} "${detail}", then the server is healthy`, async () => {
      upstream.setReply(reply);
      const failed = await chat(`${server.url}/chat`, userSays('hi'));
      seen.push(failed.raw);
      const requests = upstream.requests.length;
      upstream.setReply(HEALTHY);
      const next = await chat(`${server.url}/chat`, userSays('again'));

      expect(sseError(failed)).toEqual({ status_code: status, detail });
      expect(completionText(failed)).toBe(MockOpenAIServer.expectedText(reply));
      expect(requests).toBe(attempts);
      expect(completionText(next)).toBe('still fine');
    });

    it(`websocket: error ${status} "${detail}" then end, and the socket goes on`, async () => {
      const socket = await ChatSocket.open(`${server.url}/pirate`);
      try {
        upstream.setReply(reply);
        socket.send({ messages: [{ role: 'user', content: 'hi' }] });
        const failed = await socket.nextTurn();
        seen.push(JSON.stringify(failed));
        upstream.setReply(HEALTHY);
        socket.send({ messages: [{ role: 'user', content: 'again' }] });
        const next = await socket.nextTurn();

        expect(wsError(failed)).toEqual({ status_code: status, detail });
        expect(turnText(failed)).toBe(MockOpenAIServer.expectedText(reply));
        expect(turnText(next)).toBe('still fine');
      } finally {
        socket.close();
      }
    });
  });

  it('maps a refused connection to 502 over both transports', async () => {
    const port = await freePort();
    const refused = await startChatApp(upstream, fixtures, { baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    try {
      const response = await chat(`${refused.url}/chat`, userSays('hi'));
      const socket = await ChatSocket.open(`${refused.url}/pirate`);
      socket.send({ messages: [{ role: 'user', content: 'hi' }] });
      const frames = await socket.nextTurn();
      socket.close();

      expect(sseError(response)).toEqual({ status_code: 502, detail: 'Upstream connection lost' });
      expect(wsError(frames)).toEqual({ status_code: 502, detail: 'Upstream connection lost' });
    } finally {
      await refused.close();
    }
  });
});
