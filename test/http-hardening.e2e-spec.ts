import { Controller, Inject, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WebSocketGateway } from '@nestjs/websockets';
import { brotliCompressSync } from 'node:zlib';
import OpenAI from 'openai';
import {
  ChatCompletionResource,
  ChatResource,
  ChatRuns,
  Completion,
  LanarkyOpenAIModule,
  UseCompletion,
  type ChatRunRecord,
  type ChatRunResult,
} from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';
import { TEST_API_KEY, listen, startChatApp, useLanarky, type ChatApp } from './support/chat-app';
import { launchChromium, type HeadlessChromium } from './support/chromium';
import { startDemo } from './support/demo-app';
import { rawExchange, requestHead } from './support/raw-http';
import { chat, completionText, postChat, userSays, type SseResponse } from './support/sse';
import { ChatSocket } from './support/ws';

jest.setTimeout(30_000);

/** Waits until `check` holds, polling every 20 ms for at most `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`still false after ${timeoutMs} ms: ${check.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error event a failed stream ends with, parsed. */
function errorEvent(response: SseResponse): { status_code: number; detail: string } {
  const errors = response.events.filter((event) => event.event === 'error');
  expect(errors).toHaveLength(1);
  return JSON.parse(errors[0].data);
}

describe('an upstream error message that quotes the API key', () => {
  const MODULE_KEY = 'sk-module-5e2a71c9-quoted-back';
  const RESOURCE_KEY = 'sk-resource-b83f04d6-quoted-back';
  const OWN_CLIENT = 'OWN_CLIENT';
  const quoting = (key: string) => `bad request, key Bearer ${key} may not use this model`;
  const REDACTED = 'bad request, key Bearer [redacted] may not use this model';
  /** What each resource's own onFinish was told. */
  const finished: ChatRunResult[] = [];
  const onFinish = (result: ChatRunResult) => finished.push(result);

  /** Each transport's factory, once with the module's client, once with a client of its own. */
  @Controller()
  class KeyEchoController {
    constructor(@Inject(OWN_CLIENT) private readonly own: OpenAI) {}

    @ChatResource('module/chat')
    moduleChat() {
      return new ChatCompletionResource({ stream: true, onFinish });
    }

    @ChatResource('own/chat')
    ownChat() {
      return new ChatCompletionResource({ stream: true, client: this.own, onFinish });
    }

    @ChatResource('module/ai', { protocol: 'ai-sdk' })
    moduleAi() {
      return new ChatCompletionResource({ stream: true, onFinish });
    }

    @ChatResource('own/ai', { protocol: 'ai-sdk' })
    ownAi() {
      return new ChatCompletionResource({ stream: true, client: this.own, onFinish });
    }

    moduleResource() {
      return new ChatCompletionResource({ onFinish });
    }

    ownResource() {
      return new ChatCompletionResource({ client: this.own, onFinish });
    }

    @Post('module/complete')
    @UseCompletion(KeyEchoController.prototype.moduleResource)
    moduleComplete(@Completion('text') text: string) {
      return { text };
    }

    @Post('own/complete')
    @UseCompletion(KeyEchoController.prototype.ownResource)
    ownComplete(@Completion('text') text: string) {
      return { text };
    }
  }

  @WebSocketGateway({ path: '/module/ws' })
  class ModuleKeyGateway {
    @ChatResource()
    chat() {
      return new ChatCompletionResource({ stream: true, onFinish });
    }
  }

  @WebSocketGateway({ path: '/own/ws' })
  class OwnKeyGateway {
    constructor(@Inject(OWN_CLIENT) private readonly own: OpenAI) {}

    @ChatResource()
    chat() {
      return new ChatCompletionResource({ stream: true, client: this.own, onFinish });
    }
  }

  let upstream: MockOpenAIServer;
  let server: ChatApp;
  const runs: ChatRunRecord[] = [];

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    const own = { provide: OWN_CLIENT, useFactory: () => new OpenAI({ apiKey: RESOURCE_KEY, baseURL: upstream.url, maxRetries: 0 }) };
    server = await startChatApp(
      upstream,
      { controllers: [KeyEchoController], providers: [own, ModuleKeyGateway, OwnKeyGateway] },
      { apiKey: MODULE_KEY },
    );
    server.app.get(ChatRuns).finished$.subscribe((run) => runs.push(run));
  });
  afterEach(() => {
    upstream.reset();
    server.logger.lines.length = 0;
    runs.length = 0;
    finished.length = 0;
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  /** What each transport tells its client: the detail, and the whole answer as text. */
  const transports: Record<string, (prefix: string) => Promise<{ detail: string; raw: string }>> = {
    'the SSE error event': async (prefix) => {
      const response = await chat(`${server.url}/${prefix}/chat`, userSays('hi'));
      expect(errorEvent(response).status_code).toBe(400);
      return { detail: errorEvent(response).detail, raw: response.raw };
    },
    'the websocket error frame': async (prefix) => {
      const socket = await ChatSocket.open(`${server.url}/${prefix}/ws`);
      try {
        socket.send(userSays('hi'));
        const turn = await socket.nextTurn();
        const error = turn.find((frame) => frame.event === 'error');
        expect(error?.data.status_code).toBe(400);
        return { detail: error?.data.detail, raw: JSON.stringify(turn) };
      } finally {
        socket.close();
      }
    },
    "the AI SDK's error part": async (prefix) => {
      const response = await chat(`${server.url}/${prefix}/ai`, {
        messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
      });
      const parts = response.events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data));
      const error = parts.find((part) => part.type === 'error');
      return { detail: error?.errorText, raw: response.raw };
    },
    "the @UseCompletion() endpoint's error body": async (prefix) => {
      const response = await postChat(`${server.url}/${prefix}/complete`, userSays('hi'));
      const raw = await response.text();
      expect(response.status).toBe(400);
      expect(JSON.parse(raw)).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      return { detail: JSON.parse(raw).message, raw };
    },
  };

  const cases = Object.keys(transports).flatMap((transport) => [
    [transport, "the module's key", 'module', MODULE_KEY],
    [transport, "a resource's own client's key", 'own', RESOURCE_KEY],
  ]);

  it.each(cases)("%s, the log line and the resource's onFinish carry the message with %s redacted", async (transport, _which, prefix, key) => {
    upstream.setReply({ status: 400, errorMessage: quoting(key) });

    const { detail, raw } = await transports[transport](prefix);

    // The upstream was sent the key and quoted it back: the client and the log get the rest.
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${key}`);
    expect(detail).toBe(REDACTED);
    expect(raw).not.toContain(key);
    await eventually(() => runs.length === 1);
    expect(runs[0].error).toEqual({ status_code: 400, detail: REDACTED });
    expect(finished.map((result) => result.error)).toEqual([{ status_code: 400, detail: REDACTED }]);
    const log = server.logger.text();
    expect(log).toMatch(new RegExp(`^warn \\w+\\.\\w+ answered 400 ${escape(REDACTED)} \\(BadRequestError: HTTP 400 from 127\\.0\\.0\\.1:\\d+\\)`, 'm'));
    expect(log).not.toContain(key);

    upstream.setReply({ chunks: ['still', ' here'] });
    expect(completionText(await chat(`${server.url}/${prefix}/chat`, userSays('again')))).toBe('still here');
  });
});

/** `text` as a literal inside a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('request bodies a client botches: a 4xx when it can hear one, one WARN when it cannot, never an ERROR', () => {
  const BODY_LIMIT = 4096;
  /** Node's requestTimeout, shortened so that a slow body times out within the test. */
  const REQUEST_TIMEOUT = 1000;
  const body = JSON.stringify(userSays('hi'));
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    const moduleRef = await Test.createTestingModule({
      imports: [LanarkyOpenAIModule.forRoot({ apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0, bodyLimit: BODY_LIMIT })],
      controllers: [ChatFixtureController],
      providers: [PersonaService, TokenGuard],
    }).compile();
    server = await listen(moduleRef.createNestApplication({ forceCloseConnections: true }), (app) => {
      useLanarky(app);
      // Node checks its timeouts every connectionsCheckingInterval (30 s by default), from listen() on.
      Object.assign(app.getHttpServer(), { requestTimeout: REQUEST_TIMEOUT, headersTimeout: REQUEST_TIMEOUT, connectionsCheckingInterval: 50 });
    });
  });
  afterEach(() => {
    upstream.reset();
    server.logger.lines.length = 0;
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  /** The last chunk of a chunked response: the stream is over (Nest keeps SSE connections alive). */
  const streamEnded = (received: string) => received.endsWith('\r\n0\r\n\r\n');
  const warnings = () => server.logger.lines.filter((line) => line.startsWith('warn '));

  /** No ERROR, no stack, at most one WARN (matching `warning` when given, else none); then a normal chat works. */
  async function expectQuietAndHealthy(warning?: RegExp) {
    if (warning) {
      await eventually(() => warnings().length > 0);
      // Time for a second line, had the failure been logged twice.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(warnings()).toHaveLength(1);
      expect(warnings()[0]).toMatch(warning);
    } else {
      expect(warnings()).toHaveLength(0);
    }
    expect(server.logger.lines.filter((line) => line.startsWith('error '))).toEqual([]);
    expect(server.logger.text()).not.toMatch(/\n\s+at /);
    expect(upstream.requests).toHaveLength(0);
    upstream.setReply({ chunks: ['fine'] });
    const next = await chat(`${server.url}/chat`, userSays('next'));
    expect(next.status).toBe(200);
    expect(completionText(next)).toBe('fine');
  }

  it('an upload the client resets halfway: one WARN naming the reset', async () => {
    await rawExchange(server.url, requestHead('/chat', { 'Content-Length': 100 }) + body.slice(0, 12), {
      after: (socket) => setTimeout(() => socket.resetAndDestroy(), 50),
    });

    await expectQuietAndHealthy(/^warn POST \/chat: the request body never arrived whole: the client closed the connection \(ECONNRESET\)/);
  });

  it('half a body, then the client half-closes: 400 from Node, one WARN', async () => {
    const { received } = await rawExchange(server.url, requestHead('/chat', { 'Content-Length': 100 }) + body.slice(0, 12), {
      after: (socket) => setTimeout(() => socket.end(), 50),
    });

    expect(received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await expectQuietAndHealthy(/^warn POST \/chat: the request body never arrived whole: the client closed the connection \(HPE_INVALID_EOF_STATE\)/);
  });

  it('a chunked body with a malformed chunk size: 400, one WARN naming the framing error', async () => {
    const { received } = await rawExchange(server.url, requestHead('/chat', { 'Transfer-Encoding': 'chunked' }) + 'zz\r\n{"messages"\r\n0\r\n\r\n');

    expect(received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await expectQuietAndHealthy(/^warn POST \/chat: the request body never arrived whole: malformed HTTP framing \(HPE_INVALID_CHUNK_SIZE\)/);
  });

  it("a body sent too slowly: Node's 408 at requestTimeout, one WARN naming it", async () => {
    const started = Date.now();
    const { received } = await rawExchange(server.url, requestHead('/chat', { 'Content-Length': 100 }) + body.slice(0, 12), { timeoutMs: 5000 });

    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
    await expectQuietAndHealthy(
      /^warn POST \/chat: the request body never arrived whole: the client sent it too slowly \(the server's requestTimeout, 1000 ms\)/,
    );
  });

  it.each([
    ['charset=latin1', { 'content-type': 'application/json; charset=latin1' }, "request body charset must be utf-8, got 'latin1'"],
    ['Content-Encoding: x-unknown', { 'content-encoding': 'x-unknown' }, "Content-Encoding must be gzip, deflate, br or identity, got 'x-unknown'"],
  ])('%s: 415 naming it, nothing logged', async (_case, headers, message) => {
    const response = await postChat(`${server.url}/chat`, undefined, { rawBody: body, headers });

    expect(response.status).toBe(415);
    await expect(response.json()).resolves.toEqual({ statusCode: 415, error: 'Unsupported Media Type', message });
    await expectQuietAndHealthy();
  });

  it('Content-Encoding: br over bytes that are not brotli: 400 naming it, nothing logged', async () => {
    const response = await postChat(`${server.url}/chat`, undefined, { rawBody: body, headers: { 'content-encoding': 'br' } });

    expect(response.status).toBe(400);
    await expect(response.json()).resolves.toEqual({ statusCode: 400, error: 'Bad Request', message: 'request body is not valid br data' });
    await expectQuietAndHealthy();
  });

  it('Content-Encoding: br over a real brotli body: read as any other', async () => {
    upstream.setReply({ chunks: ['unpacked'] });
    const packed = brotliCompressSync(body);

    const { received } = await rawExchange(
      server.url,
      Buffer.concat([Buffer.from(requestHead('/chat', { 'Content-Encoding': 'br', 'Content-Length': packed.length })), packed]),
      { until: streamEnded },
    );

    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('event: completion\nid: 1\ndata: unpacked\n\n');
    expect(upstream.requests[0].body.messages.at(-1)).toEqual({ role: 'user', content: 'hi' });
    upstream.reset();
    await expectQuietAndHealthy();
  });

  describe('Expect: 100-continue', () => {
    it('a declared body over bodyLimit: 413 at once, no 100 Continue, the connection closed, nothing sent upstream', async () => {
      // No body byte is ever written: the answer has to come on the headers alone.
      const { received, closedByServer } = await rawExchange(
        server.url,
        requestHead('/chat', { 'Content-Length': 5_000_000, Expect: '100-continue' }),
      );

      expect(received).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
      expect(received).not.toContain('100 Continue');
      expect(received).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(received.slice(received.indexOf('\r\n\r\n') + 4))).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: `request body is larger than ${BODY_LIMIT} bytes`,
      });
      expect(closedByServer).toBe(true);
      await expectQuietAndHealthy();
    });

    it('a declared body within bodyLimit: 100 Continue, then the body, then the stream', async () => {
      upstream.setReply({ chunks: ['continued'] });
      let sentBodyAfter = '';

      const { received } = await rawExchange(server.url, requestHead('/chat', { 'Content-Length': Buffer.byteLength(body), Expect: '100-continue' }), {
        after: (socket, soFar) =>
          socket.on('data', function sendBodyOnContinue() {
            if (soFar().includes('\r\n\r\n')) {
              socket.off('data', sendBodyOnContinue);
              sentBodyAfter = soFar();
              socket.write(body);
            }
          }),
        until: streamEnded,
      });

      expect(sentBodyAfter).toBe('HTTP/1.1 100 Continue\r\n\r\n');
      expect(received).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
      expect(received).toContain('data: continued\n\n');
      upstream.reset();
      await expectQuietAndHealthy();
    });
  });
});

describe("the demo's security headers", () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ chunks: ['ok'] });
    demo = await startDemo({ OPENAI_API_KEY: 'sk-headers-test', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await demo.close();
    await upstream.close();
  });

  /** A policy's directives by name. */
  function directives(policy: string | null): Record<string, string> {
    return Object.fromEntries(
      (policy ?? '')
        .split(';')
        .map((part) => part.trim().split(/\s+/))
        .filter(([name]) => name)
        .map(([name, ...values]) => [name, values.join(' ')]),
    );
  }

  function expectUsualHeaders(headers: Headers) {
    expect(headers.get('x-powered-by')).toBeNull();
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
  }

  it('the chat page: a policy of its own scripts, styles and connections only, never framed', async () => {
    const response = await fetch(`${demo.url}/`);

    expect(response.status).toBe(200);
    expectUsualHeaders(response.headers);
    const policy = directives(response.headers.get('content-security-policy'));
    expect(policy).toMatchObject({
      'default-src': "'self'",
      'script-src': "'self'",
      'script-src-attr': "'none'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'object-src': "'none'",
      'frame-ancestors': "'none'",
    });
    expect(policy).not.toHaveProperty('upgrade-insecure-requests');
  });

  it('Swagger UI: the same, with inline styles allowed (its page has them), scripts still its own files', async () => {
    const response = await fetch(`${demo.url}/docs`);

    expect(response.status).toBe(200);
    expectUsualHeaders(response.headers);
    expect(directives(response.headers.get('content-security-policy'))).toMatchObject({
      'script-src': "'self'",
      'style-src': "'self' 'unsafe-inline'",
      'frame-ancestors': "'none'",
    });
  });

  it('POST /chat and its refusals: no X-Powered-By', async () => {
    const streamed = await postChat(`${demo.url}/chat`, userSays('hi'));
    await streamed.text();
    const refused = await postChat(`${demo.url}/chat`, { messages: [] });
    await refused.text();

    expect(streamed.status).toBe(200);
    expect(refused.status).toBe(400);
    for (const { headers } of [streamed, refused]) {
      expect(headers.get('x-powered-by')).toBeNull();
      expect(headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  describe('in headless Chromium', () => {
    let chromium: HeadlessChromium;

    beforeAll(async () => {
      chromium = await launchChromium();
      // Every policy violation the page meets, as the browser reports it.
      await chromium.page.addInitScript(() => {
        const seen: string[] = ((window as unknown as { violations: string[] }).violations = []);
        document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
      });
    });
    afterAll(() => chromium?.close());

    const violations = () => chromium.page.evaluate(() => (window as unknown as { violations: string[] }).violations);

    it('the chat page loads its module and vendored parser, streams over fetch and a websocket, with no violation', async () => {
      const { page } = chromium;
      await page.goto(`${demo.url}/`);
      await page.waitForLoadState('networkidle');

      const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map(({ name }) => new URL(name).pathname));
      expect(loaded).toEqual(expect.arrayContaining(['/chat.css', '/chat.js', '/vendor/eventsource-parser/index.js']));
      const fetched = await page.evaluate(async () => {
        const response = await fetch('/chat', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
        });
        return response.text();
      });
      expect(fetched).toContain('event: completion');
      const socketFrames = await page.evaluate(
        () =>
          new Promise<string[]>((resolve, reject) => {
            const socket = new WebSocket(new URL('/ws', location.href.replace(/^http/, 'ws')));
            const frames: string[] = [];
            socket.onopen = () => socket.send(JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }));
            socket.onmessage = ({ data }) => {
              frames.push(JSON.parse(data).event);
              if (JSON.parse(data).event === 'end') {
                socket.close();
                resolve(frames);
              }
            };
            socket.onerror = () => reject(new Error('the websocket failed'));
          }),
      );
      expect(socketFrames).toEqual(['completion', 'end']);
      await expect(violations()).resolves.toEqual([]);

      // The policy is in force: an inline script someone slips into the page does not run.
      const ran = await page.evaluate(async () => {
        const script = document.createElement('script');
        script.textContent = 'window.injected = true';
        document.head.append(script);
        await new Promise((resolve) => setTimeout(resolve, 100));
        return (window as unknown as { injected?: boolean }).injected ?? false;
      });
      expect(ran).toBe(false);
      await page.waitForFunction(() => (window as unknown as { violations: string[] }).violations.length > 0, undefined, { timeout: 3000 });
      await expect(violations()).resolves.toEqual([expect.stringMatching(/^script-src(-elem)? inline$/)]);
    });

    it('Swagger UI renders the demo\'s API with no violation', async () => {
      const { page } = chromium;
      await page.goto(`${demo.url}/docs`);
      await page.locator('.swagger-ui .info .title').waitFor();

      await expect(page.locator('.swagger-ui .info .title').textContent()).resolves.toContain('Lanarky for NestJS: demo');
      await expect(page.locator('.opblock-summary-path', { hasText: '/chat' }).first().isVisible()).resolves.toBe(true);
      await expect(violations()).resolves.toEqual([]);
    });
  });
});
