import { Controller, Injectable, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketGateway } from '@nestjs/websockets';
import OpenAI from 'openai';
import {
  ChatCompletionResource,
  ChatResource,
  LanarkyOpenAIModule,
  LanarkyWsAdapter,
  type ChatResourceFactory,
  type LanarkyOpenAIModuleOptions,
} from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { CapturingLogger, TEST_API_KEY, listen, startChatApp, useLanarky, type ChatApp } from './support/chat-app';
import { freePort, watchOutgoingConnections } from './support/network';
import { chat, completionText, userSays, type SseResponse } from './support/sse';
import { ChatSocket, turnText } from './support/ws';

@Controller()
class ChatController {
  @ChatResource('chat')
  chat() {
    return new ChatCompletionResource({ stream: true });
  }
}

@WebSocketGateway({ path: '/ws' })
class ChatGateway {
  @ChatResource()
  chat() {
    return new ChatCompletionResource({ stream: true });
  }
}

@Injectable()
class EchoChatFactory implements ChatResourceFactory {
  create() {
    return new ChatCompletionResource({ stream: true });
  }
}

/** Compiles a module with `logger` in place from the start, so startup lines are kept. */
async function compile(metadata: ModuleMetadata, logger: CapturingLogger) {
  return Test.createTestingModule(metadata).setLogger(logger).compile();
}

/** Compiles, sets up as main.ts would with `setup`, and listens, keeping every log line. */
async function boot(metadata: ModuleMetadata, setup: (app: INestApplication) => void = useLanarky): Promise<ChatApp> {
  const logger = new CapturingLogger();
  const moduleRef = await compile(metadata, logger);
  return listen(moduleRef.createNestApplication({ forceCloseConnections: true }), setup, logger);
}

function errorEvent(response: SseResponse) {
  const errors = response.events.filter((event) => event.event === 'error');
  expect(errors).toHaveLength(1);
  return JSON.parse(errors[0].data);
}

/** Runs `test` with the SDK's environment variables set as in `env` (undefined: unset), then restores them. */
async function withEnv(env: Record<string, string | undefined>, test: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const assign = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  };
  assign(env);
  try {
    await test();
  } finally {
    assign(saved);
  }
}

const NO_KEY_NO_SERVER = { OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined };

describe('no API key and no base URL', () => {
  it('starts, warns once naming what to set, and answers 502 without a network call', () =>
    withEnv(NO_KEY_NO_SERVER, async () => {
      const server = await boot({ imports: [LanarkyOpenAIModule.forRoot({})], controllers: [ChatController] });
      const outgoing = watchOutgoingConnections();
      try {
        const response = await chat(`${server.url}/chat`, userSays('hi'));

        const warnings = server.logger.lines.filter((line) => line.includes('No API key and no base URL'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/^warn /);
        expect(warnings[0]).toContain('OPENAI_API_KEY');
        expect(warnings[0]).toContain('OPENAI_BASE_URL');
        expect(warnings[0]).toContain('forRoot({ apiKey | baseURL })');
        expect(response.status).toBe(200);
        expect(errorEvent(response)).toEqual({ status_code: 502, detail: 'Upstream authentication failed' });
        expect(server.logger.text()).toContain(
          'ChatController.chat answered 502 Upstream authentication failed (AuthenticationError: no API key is configured, so nothing was sent)',
        );
        // The only connections this process opened went to the app itself.
        const app = new URL(server.url).host;
        expect(outgoing.targets().filter((target) => target !== app)).toEqual([]);
        expect(outgoing.targets()).toContain(app);
      } finally {
        outgoing.stop();
        await server.close();
      }
    }));

  it('serves gateways too: a turn gets the same 502, then end', () =>
    withEnv(NO_KEY_NO_SERVER, async () => {
      const server = await boot({ imports: [LanarkyOpenAIModule.forRoot({})], providers: [ChatGateway] });
      const socket = await ChatSocket.open(`${server.url}/ws`);
      try {
        socket.send(userSays('hi'));
        const frames = await socket.nextTurn();

        expect(frames).toEqual([
          { event: 'error', data: { status_code: 502, detail: 'Upstream authentication failed' } },
          { event: 'end', data: '' },
        ]);
      } finally {
        socket.close();
        await server.close();
      }
    }));

  it('leaves a client given to the module alone, and says nothing', () =>
    withEnv(NO_KEY_NO_SERVER, async () => {
      const upstream = await MockOpenAIServer.start({ chunks: ['from the given client'] });
      const client = new OpenAI({ apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0 });
      const server = await boot({ imports: [LanarkyOpenAIModule.forRoot({ client })], controllers: [ChatController] });
      try {
        const response = await chat(`${server.url}/chat`, userSays('hi'));

        expect(completionText(response)).toBe('from the given client');
        expect(server.logger.text()).not.toContain('No API key');
      } finally {
        await server.close();
        await upstream.close();
      }
    }));
});

describe('a malformed base URL is refused at startup', () => {
  const compileWith = (options: LanarkyOpenAIModuleOptions) =>
    compile({ imports: [LanarkyOpenAIModule.forRoot({ apiKey: TEST_API_KEY, ...options })], controllers: [ChatController] }, new CapturingLogger());

  it.each([
    ['localhost:11434/v1', "the baseURL option 'localhost:11434/v1' is not a usable base URL: it has no scheme; write http://localhost:11434/v1"],
    ['not a url', "the baseURL option 'not a url' is not a usable base URL: it is not a URL; write one such as http://localhost:11434/v1"],
    ['ftp://models.example/v1', "the baseURL option 'ftp://models.example/v1' is not a usable base URL: only http:// and https:// are supported, not ftp://"],
    ['http://', "the baseURL option 'http://' is not a usable base URL: it is not a URL"],
  ])('baseURL %p', async (baseURL, message) => {
    await expect(compileWith({ baseURL })).rejects.toThrow(message);
  });

  it('names OPENAI_BASE_URL when the value came from there', () =>
    withEnv({ OPENAI_BASE_URL: '127.0.0.1:8000/v1' }, async () => {
      await expect(compileWith({})).rejects.toThrow(
        "OPENAI_BASE_URL '127.0.0.1:8000/v1' is not a usable base URL: it has no scheme; write http://127.0.0.1:8000/v1",
      );
    }));

  it('never shows credentials written into the URL, nor the key', async () => {
    const error: Error = await compileWith({ baseURL: 'ollama:hunter2@localhost:11434/v1' }).catch((caught) => caught);

    expect(error.message).toContain("'***@localhost:11434/v1'");
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain(TEST_API_KEY);
  });

  it('accepts http and https URLs as they are', async () => {
    await expect(compileWith({ baseURL: 'https://api.example.com/v1' })).resolves.toBeDefined();
    await expect(compileWith({ baseURL: 'HTTP://127.0.0.1:11434/v1' })).resolves.toBeDefined();
  });
});

describe('@ChatResource() gateways without LanarkyWsAdapter', () => {
  let upstream: MockOpenAIServer;
  beforeAll(async () => (upstream = await MockOpenAIServer.start({ chunks: ['hello'] })));
  afterAll(() => upstream.close());

  const root = () => LanarkyOpenAIModule.forRoot({ isGlobal: true, apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0 });

  it.each([
    ['a gateway class', () => ({ imports: [root()], providers: [ChatGateway] }), 'ChatGateway.chat has @ChatResource()'],
    [
      'a forFeature() factory',
      () => ({ imports: [root(), LanarkyOpenAIModule.forFeature({ path: '/ws', factory: EchoChatFactory })] }),
      'EchoChatFactoryGateway.chat has @ChatResource()',
    ],
  ])('with no websocket adapter, %s fails the start, saying how to install one', async (_case, metadata, names) => {
    const moduleRef = await compile(metadata(), new CapturingLogger());
    const app = moduleRef.createNestApplication();
    try {
      const error: Error = await app.init().catch((caught) => caught);

      expect(error).toBeInstanceOf(Error);
      expect(error.message).toContain(names);
      expect(error.message).toContain('but the app has no websocket adapter');
      expect(error.message).toContain('app.useWebSocketAdapter(new LanarkyWsAdapter(app))');
      // Nest's own advice would have been to install socket.io.
      expect(error.message).not.toContain('socket.io');
    } finally {
      await app.close();
    }
  });

  it("under Nest's WsAdapter it starts, with a warning naming LanarkyWsAdapter", async () => {
    const server = await boot({ imports: [root()], providers: [ChatGateway] }, (app) => app.useWebSocketAdapter(new WsAdapter(app)));
    try {
      const warnings = server.logger.lines.filter((line) => line.includes('@ChatResource()'));

      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^warn ChatGateway\.chat has @ChatResource\(\) but the app's websocket adapter is WsAdapter, not LanarkyWsAdapter/);
      expect(warnings[0]).toContain('app.useWebSocketAdapter(new LanarkyWsAdapter(app))');
      // What the warning is about: Nest's {event, data} frame is answered, Lanarky's frame before it is not.
      const socket = await ChatSocket.open(`${server.url}/ws`);
      socket.send(userSays('unanswered'));
      socket.send({ event: 'chat', data: userSays('hi') });
      const turn = await socket.nextTurn();
      socket.close();
      expect(turnText(turn)).toBe('hello');
      expect(socket.frames).toEqual(turn);
    } finally {
      await server.close();
    }
  });

  it('under LanarkyWsAdapter it starts without a word, and serves the chat protocol', async () => {
    const server = await boot({ imports: [root()], providers: [ChatGateway] }, (app) => app.useWebSocketAdapter(new LanarkyWsAdapter(app)));
    const socket = await ChatSocket.open(`${server.url}/ws`);
    try {
      socket.send(userSays('hi'));

      expect(turnText(await socket.nextTurn())).toBe('hello');
      expect(server.logger.text()).not.toContain('@ChatResource()');
    } finally {
      socket.close();
      await server.close();
    }
  });
});

describe('an app that never called useChatBodyParser(app)', () => {
  let upstream: MockOpenAIServer;
  beforeAll(async () => (upstream = await MockOpenAIServer.start({ chunks: ['hello'] })));
  afterAll(() => upstream.close());

  const onlyTheAdapter = (app: INestApplication) => app.useWebSocketAdapter(new LanarkyWsAdapter(app));
  const withChatRoutes = (options: LanarkyOpenAIModuleOptions = {}) => ({
    imports: [LanarkyOpenAIModule.forRoot({ apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0, ...options })],
    controllers: [ChatController],
  });
  // 210 KB: over Express's 100 KiB, each message within maxContentLength.
  const largeBody = { messages: ['user', 'assistant', 'user'].map((role) => ({ role, content: 'x'.repeat(70_000) })) };
  const bodyParserWarnings = (server: ChatApp) => server.logger.lines.filter((line) => line.includes('useChatBodyParser(app)'));

  it("gets one warning naming useChatBodyParser(app), and indeed stops at Express's 100 KiB", async () => {
    const server = await boot(withChatRoutes(), onlyTheAdapter);
    try {
      const response = await chat(`${server.url}/chat`, largeBody);

      expect(bodyParserWarnings(server)).toEqual([
        "warn useChatBodyParser(app) was not called: Express's JSON parser refuses bodies over 102400 bytes, " +
          "under the module's bodyLimit of 1048576 bytes for ChatController.chat. Call useChatBodyParser(app) in main.ts, before listen() LanarkyOpenAI",
      ]);
      expect(response.status).toBe(413);
    } finally {
      await server.close();
    }
  });

  it('gets none when main.ts calls it', async () => {
    const server = await boot(withChatRoutes(), useLanarky);
    try {
      const response = await chat(`${server.url}/chat`, largeBody);

      expect(bodyParserWarnings(server)).toEqual([]);
      expect(completionText(response)).toBe('hello');
    } finally {
      await server.close();
    }
  });

  it("gets none when bodyLimit is within Express's 100 KiB, which then holds without it", async () => {
    const server = await boot(withChatRoutes({ bodyLimit: 50 * 1024 }), onlyTheAdapter);
    try {
      const response = await chat(`${server.url}/chat`, userSays('x'.repeat(60 * 1024)));

      expect(bodyParserWarnings(server)).toEqual([]);
      expect(response.status).toBe(413);
    } finally {
      await server.close();
    }
  });

  it('gets none when no route reads chat bodies', async () => {
    const server = await boot({ ...withChatRoutes(), controllers: [], providers: [ChatGateway] }, onlyTheAdapter);
    try {
      expect(bodyParserWarnings(server)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('upstream failures in the log name the host and the cause, never the key', () => {
  let upstream: MockOpenAIServer;
  beforeAll(async () => (upstream = await MockOpenAIServer.start()));
  afterEach(() => upstream.reset());
  afterAll(() => upstream.close());

  async function failedLog(options: LanarkyOpenAIModuleOptions, expected: { status_code: number; detail: string }): Promise<string> {
    const server = await startChatApp(upstream, { controllers: [ChatController] }, options);
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));
      expect(errorEvent(response)).toEqual(expected);
      const log = server.logger.text();
      expect(log).not.toContain(TEST_API_KEY);
      return log;
    } finally {
      await server.close();
    }
  }

  it('a refused connection: ECONNREFUSED and host:port, without the credentials or query of the URL', async () => {
    const port = await freePort();

    const log = await failedLog(
      { baseURL: `http://lanarky:s3cret-pass@127.0.0.1:${port}/v1?api-version=s3cret-query` },
      { status_code: 502, detail: 'Upstream connection lost' },
    );

    expect(log).toContain(
      `ChatController.chat answered 502 Upstream connection lost (APIConnectionError: ECONNREFUSED, upstream 127.0.0.1:${port})`,
    );
    expect(log).not.toContain('s3cret');
  });

  it('an unknown host: ENOTFOUND and the host name', async () => {
    const log = await failedLog({ baseURL: 'http://lanarky-upstream.invalid/v1' }, { status_code: 502, detail: 'Upstream connection lost' });

    expect(log).toContain('ChatController.chat answered 502 Upstream connection lost (APIConnectionError: ENOTFOUND, upstream lanarky-upstream.invalid)');
  });

  it("an HTTP status: the status and the host that answered, not the upstream's words", async () => {
    upstream.setReply({ status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` });

    const log = await failedLog({}, { status_code: 502, detail: 'Upstream authentication failed' });

    expect(log).toContain(`ChatController.chat answered 502 Upstream authentication failed (AuthenticationError: HTTP 401 from ${new URL(upstream.url).host})`);
    expect(log).not.toContain('Incorrect API key');
  });
});
