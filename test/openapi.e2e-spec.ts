import { MockOpenAIServer } from '@lanarky/openai/testing';
import type { ChatApp } from './support/chat-app';
import { startDemo } from './support/demo-app';
import { chat, completionText, userSays } from './support/sse';

describe('OpenAPI documents of the demo (/docs, /docs-json)', () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;
  let document: any;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    demo = await startDemo({ OPENAI_API_KEY: 'sk-docs', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
    document = await (await fetch(`${demo.url}/docs-json`)).json();
  });
  afterAll(async () => {
    await demo.close();
    await upstream.close();
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await fetch(`${demo.url}/docs`);

    expect(response.status).toBe(200);
    expect(await response.text()).toContain('swagger-ui');
  });

  it('documents POST /chat: body schema with the role enum and limits, factory parameters, the event stream', () => {
    const operation = document.paths['/chat'].post;

    const body = operation.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['messages']);
    expect(body.properties.messages).toMatchObject({ type: 'array', minItems: 1, maxItems: 100 });
    expect(body.properties.messages.items.properties.role.enum).toEqual(['user', 'assistant']);
    expect(body.properties.messages.items.properties.content).toMatchObject({ type: 'string', maxLength: 100000 });
    expect(operation.parameters.map((parameter: any) => [parameter.in, parameter.name])).toEqual(
      expect.arrayContaining([
        ['query', 'stream'],
        ['query', 'persona'],
      ]),
    );
    // The server's personas, as a choice: a client names one, it never writes a system prompt.
    expect(operation.parameters.filter((parameter: any) => parameter.name === 'persona')).toEqual([
      expect.objectContaining({ in: 'query', required: false, schema: expect.objectContaining({ enum: ['sassy', 'pirate', 'poet', 'terse'] }) }),
    ]);
    expect(operation.parameters.some((parameter: any) => parameter.name === 'system')).toBe(false);
    expect(Object.keys(operation.responses['200'].content)).toEqual(['text/event-stream']);
    expect(operation.responses['200'].description).toContain('event: completion');
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '413', '415']));
  });

  it('documents POST /json: body, the factory method’s temperature parameter and the upstream errors', () => {
    const operation = document.paths['/json'].post;

    expect(operation.requestBody.content['application/json'].schema.properties.messages.type).toBe('array');
    expect(operation.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ in: 'query', name: 'temperature', schema: { type: 'number' } })]),
    );
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '413', '415', '429', '502', '504']));
  });
});

describe('without @nestjs/swagger installed', () => {
  it('loads the library and serves a chat endpoint', async () => {
    const upstream = await MockOpenAIServer.start({ chunks: ['no', ' swagger'] });
    try {
      let loadedSwagger = false;
      await jest.isolateModulesAsync(async () => {
        jest.doMock('@nestjs/swagger', () => {
          loadedSwagger = true;
          throw Object.assign(new Error("Cannot find module '@nestjs/swagger'"), { code: 'MODULE_NOT_FOUND' });
        });
        // Nest itself is loaded afresh too, so that the library and the app share one Nest.
        const lanarky: typeof import('@lanarky/openai') = require('@lanarky/openai');
        const { Controller, Module, Query }: typeof import('@nestjs/common') = require('@nestjs/common');
        const { Test }: typeof import('@nestjs/testing') = require('@nestjs/testing');

        @Controller()
        class PlainController {
          @lanarky.ChatResource('chat')
          chat(@Query('stream') stream?: string) {
            return new lanarky.ChatCompletionResource({ stream: stream !== 'false' });
          }
        }
        @Module({
          imports: [lanarky.LanarkyOpenAIModule.forRoot({ apiKey: 'sk-x', baseURL: upstream.url, maxRetries: 0 })],
          controllers: [PlainController],
        })
        class PlainModule {}

        const moduleRef = await Test.createTestingModule({ imports: [PlainModule] }).compile();
        const app = moduleRef.createNestApplication({ forceCloseConnections: true, logger: false });
        lanarky.useChatBodyParser(app);
        await app.listen(0, '127.0.0.1');
        try {
          const response = await chat(`${await app.getUrl()}/chat`.replace('[::1]', '127.0.0.1'), userSays('hi'));
          expect(completionText(response)).toBe('no swagger');
        } finally {
          await app.close();
        }
      });
      // The library did try to load it, and went on without it.
      expect(loadedSwagger).toBe(true);
    } finally {
      await upstream.close();
    }
  });
});
