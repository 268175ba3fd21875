import {
  BadRequestException,
  Controller,
  DefaultValuePipe,
  Injectable,
  ParseFloatPipe,
  Post,
  Query,
} from '@nestjs/common';
import { IsInt, IsString, Max, Min } from 'class-validator';
import type { IncomingMessage } from 'node:http';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import {
  ChatCompletionResource,
  Completion,
  UseCompletion,
  type ChatFactoryContext,
  type ChatResourceFactory,
} from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { postChat, userSays } from './support/sse';
import { TEST_API_KEY, startChatApp, type ChatApp } from './support/chat-app';

class VerdictDto {
  @IsString()
  verdict!: string;

  @IsInt()
  @Min(0)
  @Max(10)
  sass!: number;
}

@Injectable()
class ToneService {
  system(): string {
    return 'You are terse';
  }
}

@Injectable()
class HeaderModelFactory implements ChatResourceFactory {
  constructor(private readonly tone: ToneService) {}

  create({ request }: ChatFactoryContext) {
    const model = (request as IncomingMessage).headers['x-model'] as string | undefined;
    return new ChatCompletionResource({ system: this.tone.system(), model });
  }
}

@Controller()
class CompletionController {
  constructor(private readonly tone: ToneService) {}

  resource(@Query('temperature', new DefaultValuePipe(0.5), ParseFloatPipe) temperature: number) {
    if (temperature < 0 || temperature > 2) {
      throw new BadRequestException('temperature must be between 0 and 2');
    }
    return new ChatCompletionResource({ temperature, system: this.tone.system() });
  }

  @Post('complete')
  @UseCompletion(CompletionController.prototype.resource)
  complete(@Completion() completion: ChatCompletion, @Completion('text') text: string) {
    return { object: completion.object, text };
  }

  @Post('provider')
  @UseCompletion(HeaderModelFactory)
  provider(@Completion('text') text: string) {
    return { text };
  }

  jsonResource() {
    return new ChatCompletionResource({ response_format: { type: 'json_object' } });
  }

  @Post('json')
  @UseCompletion(CompletionController.prototype.jsonResource)
  json(@Completion('json') answer: unknown) {
    return answer;
  }

  verdictResource() {
    return new ChatCompletionResource({ system: 'Judge the user' });
  }

  @Post('verdict')
  @UseCompletion(CompletionController.prototype.verdictResource, { schema: VerdictDto })
  verdict(@Completion('json') verdict: VerdictDto) {
    return { isDto: verdict instanceof VerdictDto, verdict };
  }

  noResource() {
    return 'not a resource';
  }

  @Post('broken')
  @UseCompletion(CompletionController.prototype.noResource as never)
  broken() {
    return 'never';
  }
}

describe('@UseCompletion(): completions injected into ordinary endpoints', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ text: 'A finished reply.' });
    server = await startChatApp(upstream, { controllers: [CompletionController], providers: [ToneService, HeaderModelFactory] });
  });
  afterEach(() => {
    expect(server.logger.text()).not.toContain(TEST_API_KEY);
    upstream.reset();
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  const post = async (path: string, body: unknown = userSays('hi'), init?: Parameters<typeof postChat>[2]) => {
    const response = await postChat(`${server.url}${path}`, body, init);
    return { status: response.status, body: await response.json() };
  };

  it('hands the handler the completion a factory method built from the validated messages', async () => {
    const { status, body } = await post('/complete');

    expect(status).toBe(201);
    expect(body).toEqual({ object: 'chat.completion', text: 'A finished reply.' });
    expect(upstream.requests[0].body).toMatchObject({
      messages: [
        { role: 'system', content: 'You are terse' },
        { role: 'user', content: 'hi' },
      ],
    });
    expect(upstream.requests[0].body.stream).toBeFalsy();
  });

  it("passes the factory's own query parameter, through its pipes, to upstream", async () => {
    await post('/complete?temperature=1.25');

    expect(upstream.requests[0].body.temperature).toBe(1.25);
  });

  it.each([
    ['not a number', 'warm', 'Validation failed (numeric string is expected)'],
    ['out of range', '5', 'temperature must be between 0 and 2'],
  ])('rejects a temperature %s with 400 before upstream', async (_case, temperature, message) => {
    const { status, body } = await post(`/complete?temperature=${temperature}`);

    expect(status).toBe(400);
    expect(body).toMatchObject({ statusCode: 400, message });
    expect(upstream.requests).toHaveLength(0);
  });

  it('serves a provider factory that injects a service and reads the request', async () => {
    const { body } = await post('/provider', userSays('hi'), { headers: { 'x-model': 'header-model' } });

    expect(body).toEqual({ text: 'A finished reply.' });
    expect(upstream.requests[0].body).toMatchObject({ model: 'header-model', messages: [{ role: 'system', content: 'You are terse' }, { role: 'user', content: 'hi' }] });
  });

  it.each<[string, unknown, number, string]>([
    ['a system message', { messages: [{ role: 'system', content: 'x' }] }, 400, 'messages.0.role must be one of the following values: user, assistant'],
    ['empty messages', { messages: [] }, 400, 'messages should not be empty'],
    ['content not a string', { messages: [{ role: 'user', content: 1 }] }, 400, 'messages.0.content must be a string'],
  ])('rejects %s with 400 and calls no upstream', async (_case, body, status, message) => {
    const response = await post('/complete', body);

    expect(response.status).toBe(status);
    expect(response.body.message).toEqual([message]);
    expect(upstream.requests).toHaveLength(0);
  });

  it('rejects a non-JSON content type with 415 and calls no upstream', async () => {
    const response = await post('/complete', undefined, { rawBody: 'hi', headers: { 'content-type': 'text/plain' } });

    expect(response.status).toBe(415);
    expect(upstream.requests).toHaveLength(0);
  });

  it.each<[string, object, number, string]>([
    ['429', { status: 429 }, 429, 'Rate limited by upstream'],
    ['401', { status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` }, 502, 'Upstream authentication failed'],
    ['500', { status: 500 }, 502, 'Upstream error'],
    ['404', { status: 404, errorMessage: 'The model `nope` does not exist' }, 404, 'The model `nope` does not exist'],
  ])('answers upstream %s with HTTP %i, not a 200', async (_case, reply, status, message) => {
    upstream.setReply(reply);

    const response = await post('/complete');

    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ statusCode: status, message });
    expect(JSON.stringify(response.body)).not.toContain(TEST_API_KEY);
  });

  it('aborts the upstream call when the client goes away', async () => {
    upstream.setReply({ hang: true });
    const client = new AbortController();

    const pending = postChat(`${server.url}/complete`, userSays('hi'), { signal: client.signal }).catch(() => undefined);
    await upstream.waitFor(() => upstream.requests.length === 1, 1000);
    client.abort();
    await pending;

    await upstream.waitFor(() => upstream.abortedRequests === 1 && upstream.openConnections === 0, 1000);
  });

  it('answers 500 and logs the handler when the factory returns no resource', async () => {
    const response = await post('/broken');

    expect(response.status).toBe(500);
    expect(response.body).toEqual({ statusCode: 500, message: 'Internal Server Error' });
    expect(server.logger.text()).toContain('CompletionController.broken returned a string');
    expect(server.logger.text()).not.toMatch(/\n\s+at /);
  });

  describe('structured output', () => {
    it('parses a json_object answer', async () => {
      upstream.setReply({ text: '{"verdict": "sassy", "sass": 9}' });

      const { body } = await post('/json');

      expect(body).toEqual({ verdict: 'sassy', sass: 9 });
      expect(upstream.requests[0].body.response_format).toEqual({ type: 'json_object' });
    });

    it('asks for the JSON schema of the DTO and hands the handler a validated instance', async () => {
      upstream.setReply({ text: '{"verdict": "guilty", "sass": 7}' });

      const { body } = await post('/verdict');

      expect(body).toEqual({ isDto: true, verdict: { verdict: 'guilty', sass: 7 } });
      const format = upstream.requests[0].body.response_format;
      expect(format.type).toBe('json_schema');
      expect(format.json_schema.name).toBe('VerdictDto');
      expect(format.json_schema.schema).toMatchObject({
        type: 'object',
        properties: { verdict: { type: 'string' }, sass: { type: 'integer', minimum: 0, maximum: 10 } },
        required: expect.arrayContaining(['verdict', 'sass']),
      });
    });

    it('answers 502 naming the problem when the model answers malformed JSON', async () => {
      upstream.setReply({ text: '{"verdict": "guil' });

      const response = await post('/verdict');

      expect(response.status).toBe(502);
      expect(response.body.message).toMatch(/^Model answer is not valid JSON: /);
    });

    it('answers 502 naming each field when the answer does not match the schema', async () => {
      upstream.setReply({ text: '{"verdict": 3, "sass": 11}' });

      const response = await post('/verdict');

      expect(response.status).toBe(502);
      expect(response.body.message).toBe(
        'Model answer does not match VerdictDto: verdict must be a string; sass must not be greater than 10',
      );
    });

    it('answers 502 when a JSON answer is not an object', async () => {
      upstream.setReply({ text: '[1, 2]' });

      const response = await post('/verdict');

      expect(response.status).toBe(502);
      expect(response.body.message).toBe('Model answer does not match VerdictDto: the answer is not a JSON object');
    });

    it('answers 502 for malformed JSON asked for with json_object too', async () => {
      upstream.setReply({ text: 'not json at all' });

      const response = await post('/json');

      expect(response.status).toBe(502);
      expect(response.body.message).toMatch(/^Model answer is not valid JSON/);
    });
  });
});

describe('@UseCompletion() against an upstream that never answers', () => {
  it('answers an upstream that never answers with 504', async () => {
    const slow = await MockOpenAIServer.start({ hang: true });
    const app = await startChatApp(
      slow,
      { controllers: [CompletionController], providers: [ToneService, HeaderModelFactory] },
      { timeout: 300 },
    );
    try {
      const response = await postChat(`${app.url}/complete`, userSays('hi'));

      expect(response.status).toBe(504);
      expect(await response.json()).toMatchObject({ statusCode: 504, message: 'Upstream timeout' });
    } finally {
      await app.close();
      await slow.close();
    }
  });
});
