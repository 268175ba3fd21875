import { Controller, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import OpenAI from 'openai';
import {
  ChatCompletionResource,
  ChatResource,
  InjectOpenAI,
  LanarkyOpenAIModule,
  OPENAI_CLIENT,
  type LanarkyOpenAIModuleOptions,
  type LanarkyOpenAIOptionsFactory,
} from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { chat, completionText, userSays } from './support/sse';
import { TEST_API_KEY, listen } from './support/chat-app';

@Controller()
class PlainController {
  @ChatResource('chat')
  chat() {
    return new ChatCompletionResource({ stream: true });
  }
}

/** Options from a class, as `useClass` users write them. */
@Injectable()
class OpenAIConfig {
  static upstreamUrl = '';
  create(): LanarkyOpenAIModuleOptions {
    return { apiKey: TEST_API_KEY, baseURL: OpenAIConfig.upstreamUrl, maxRetries: 0, defaultModel: 'from-class' };
  }
}

@Module({ providers: [OpenAIConfig], exports: [OpenAIConfig] })
class ConfigModule {}

/** A feature module that imports nothing: it relies on `isGlobal`. */
@Module({ controllers: [PlainController] })
class FeatureModule {}

describe('LanarkyOpenAIModule configuration', () => {
  let upstream: MockOpenAIServer;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ chunks: ['configured'] });
    OpenAIConfig.upstreamUrl = upstream.url;
  });
  afterEach(() => upstream.reset());
  afterAll(() => upstream.close());

  async function serve(imports: any[], controllers: any[] = [PlainController]) {
    const moduleRef = await Test.createTestingModule({ imports, controllers }).compile();
    return listen(moduleRef.createNestApplication({ forceCloseConnections: true }));
  }

  it('forRootAsync with useFactory and inject', async () => {
    const server = await serve([
      LanarkyOpenAIModule.forRootAsync({
        imports: [ConfigModule],
        inject: [OpenAIConfig],
        useFactory: (config: OpenAIConfig) => ({ ...config.create(), defaultModel: 'from-factory' }),
      }),
    ]);
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(completionText(response)).toBe('configured');
      expect(upstream.requests[0].body.model).toBe('from-factory');
      expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    } finally {
      await server.close();
    }
  });

  it('forRootAsync with useClass', async () => {
    @Injectable()
    class Factory implements LanarkyOpenAIOptionsFactory {
      createLanarkyOpenAIOptions = () => new OpenAIConfig().create();
    }
    const server = await serve([LanarkyOpenAIModule.forRootAsync({ useClass: Factory })]);
    try {
      await chat(`${server.url}/chat`, userSays('hi'));

      expect(upstream.requests[0].body.model).toBe('from-class');
    } finally {
      await server.close();
    }
  });

  it('forRootAsync with useExisting', async () => {
    @Injectable()
    class Factory implements LanarkyOpenAIOptionsFactory {
      async createLanarkyOpenAIOptions() {
        return { ...new OpenAIConfig().create(), defaultModel: 'from-existing' };
      }
    }
    @Module({ providers: [Factory], exports: [Factory] })
    class FactoryModule {}
    const server = await serve([LanarkyOpenAIModule.forRootAsync({ imports: [FactoryModule], useExisting: Factory })]);
    try {
      await chat(`${server.url}/chat`, userSays('hi'));

      expect(upstream.requests[0].body.model).toBe('from-existing');
    } finally {
      await server.close();
    }
  });

  it('forRootAsync with a ready client, used as is and injectable with @InjectOpenAI()', async () => {
    const client = new OpenAI({ apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0 });
    @Injectable()
    class UsesClient {
      constructor(@InjectOpenAI() readonly openai: OpenAI) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [LanarkyOpenAIModule.forRootAsync({ useFactory: async () => ({ client }) })],
      providers: [UsesClient],
      controllers: [PlainController],
    }).compile();
    const server = await listen(moduleRef.createNestApplication({ forceCloseConnections: true }));
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(completionText(response)).toBe('configured');
      expect(moduleRef.get(UsesClient).openai).toBe(client);
      expect(moduleRef.get(OPENAI_CLIENT)).toBe(client);
    } finally {
      await server.close();
    }
  });

  it('creates one client for the module, never one per request', async () => {
    const server = await serve([LanarkyOpenAIModule.forRoot({ apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0 })]);
    try {
      const client = server.app.get<OpenAI>(OPENAI_CLIENT);
      const create = jest.spyOn(client.chat.completions, 'create');

      await chat(`${server.url}/chat`, userSays('one'));
      await chat(`${server.url}/chat`, userSays('two'));

      expect(create).toHaveBeenCalledTimes(2);
      expect(server.app.get(OPENAI_CLIENT)).toBe(client);
    } finally {
      await server.close();
    }
  });

  it('keeps its upstream connections alive between requests, and closes them when the app closes', async () => {
    // An upstream of its own, so that only this app's connections are counted.
    const own = await MockOpenAIServer.start({ chunks: ['pooled'] });
    const server = await serve([LanarkyOpenAIModule.forRoot({ apiKey: TEST_API_KEY, baseURL: own.url, maxRetries: 0 })]);
    try {
      for (let request = 0; request < 8; request++) {
        expect(completionText(await chat(`${server.url}/chat`, userSays(`turn ${request}`)))).toBe('pooled');
      }

      expect(own.requests).toHaveLength(8);
      // The pool may open a second connection while the first is being released; never one a request.
      expect(own.socketsAccepted).toBeLessThanOrEqual(2);
      expect(own.socketsOpen).toBeGreaterThan(0);

      await server.close();
      await own.waitFor(() => own.socketsOpen === 0);
    } finally {
      await server.close();
      await own.close();
    }
  });

  it('sends upstream requests through the fetch option when one is given', async () => {
    const calls: string[] = [];
    const fetch = (input: string | URL | Request, init?: RequestInit) => {
      calls.push(String(input));
      return globalThis.fetch(input, init);
    };
    const server = await serve([LanarkyOpenAIModule.forRoot({ apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0, fetch })]);
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(completionText(response)).toBe('configured');
      expect(calls).toEqual([`${upstream.url}/chat/completions`]);
    } finally {
      await server.close();
    }
  });

  it('isGlobal serves factories of feature modules that import nothing', async () => {
    const server = await serve(
      [LanarkyOpenAIModule.forRoot({ isGlobal: true, apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0 }), FeatureModule],
      [],
    );
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));

      expect(completionText(response)).toBe('configured');
    } finally {
      await server.close();
    }
  });

  describe('environment', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('falls back to OPENAI_API_KEY and OPENAI_BASE_URL, as the SDK does', async () => {
      process.env.OPENAI_API_KEY = 'sk-from-env';
      process.env.OPENAI_BASE_URL = upstream.url;
      const server = await serve([LanarkyOpenAIModule.forRoot({ maxRetries: 0 })]);
      try {
        await chat(`${server.url}/chat`, userSays('hi'));

        expect(upstream.requests[0].headers.authorization).toBe('Bearer sk-from-env');
      } finally {
        await server.close();
      }
    });

    it('needs no key for a local server named by baseURL', async () => {
      delete process.env.OPENAI_API_KEY;
      delete process.env.OPENAI_BASE_URL;
      const server = await serve([LanarkyOpenAIModule.forRoot({ baseURL: upstream.url, maxRetries: 0 })]);
      try {
        const response = await chat(`${server.url}/chat`, userSays('hi'));

        expect(completionText(response)).toBe('configured');
      } finally {
        await server.close();
      }
    });
  });
});
