import OpenAI, {
  APIConnectionError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import { Observable, firstValueFrom, lastValueFrom, take, timeout, toArray } from 'rxjs';
import { UpstreamFetch } from '../http/upstream-fetch';
import { MockOpenAIServer } from '../testing';
import { DEFAULT_MODEL } from '../lanarky-openai.constants';
import { NO_CLIENT } from '../lanarky-openai.messages';
import { ChatCompletionResource } from './chat-completion.resource';
import { isOpenAIResource, type ChatMessage } from './openai.resource';

const messages: ChatMessage[] = [
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Tell me a joke' },
];

/** Every chunk the observable emits, failing the test if it takes more than `ms`. */
function collect(source: Observable<string>, ms = 3000): Promise<string[]> {
  return lastValueFrom(source.pipe(toArray(), timeout(ms)));
}

/** The chunks emitted before the observable errored, and the error. */
async function collectUntilError(source: Observable<string>, ms = 3000): Promise<{ chunks: string[]; error: unknown }> {
  const chunks: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`no error within ${ms}ms`));
    }, ms);
    const subscription = source.subscribe({
      next: (chunk) => chunks.push(chunk),
      error: (error) => {
        clearTimeout(timer);
        resolve({ chunks, error });
      },
      complete: () => {
        clearTimeout(timer);
        reject(new Error(`completed without error after ${JSON.stringify(chunks)}`));
      },
    });
  });
}

// Every behaviour holds over the module's own fetch (bodies read as Node streams) and over any other (web streams).
describe.each([
  ['UpstreamFetch (the module default)', true],
  ['the global fetch', false],
])('ChatCompletionResource over %s', (_transport, useUpstreamFetch) => {
  let server: MockOpenAIServer;
  let client: OpenAI;
  const upstreamFetch = new UpstreamFetch();
  const fetch = useUpstreamFetch ? upstreamFetch.fetch : undefined;

  beforeAll(async () => {
    server = await MockOpenAIServer.start();
    client = new OpenAI({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0, timeout: 5000, fetch });
  });
  afterEach(async () => {
    await server.waitFor(() => server.openConnections === 0);
    server.reset();
  });
  afterAll(async () => {
    await upstreamFetch.onApplicationShutdown();
    await server.close();
  });

  it('is an OpenAIResource', () => {
    expect(isOpenAIResource(new ChatCompletionResource())).toBe(true);
  });

  describe('stream() with stream: true', () => {
    it('emits one chunk per upstream delta, exactly', async () => {
      const chunks = ['Hel', 'lo', ', ', 'wor', 'ld\n', ' \r\n!'];
      server.setReply({ chunks });
      const resource = new ChatCompletionResource({ client, stream: true });
      await expect(collect(resource.stream(messages))).resolves.toEqual(chunks);
      expect(server.requests).toHaveLength(1);
    });

    it('keeps multi-byte characters split across socket writes intact', async () => {
      const chunks = ['héllo', ' 世界', ' 🎉'];
      server.setReply({ chunks, fragmentBytes: 1 });
      const resource = new ChatCompletionResource({ client, stream: true });
      await expect(collect(resource.stream(messages))).resolves.toEqual(chunks);
    });

    it('prepends the system prompt and sends stream: true', async () => {
      const resource = new ChatCompletionResource({ client, stream: true, system: 'You are a sassy assistant' });
      await collect(resource.stream(messages));
      const body = server.requests[0].body;
      expect(body.messages).toEqual([{ role: 'system', content: 'You are a sassy assistant' }, ...messages]);
      expect(body.stream).toBe(true);
    });

    it('sends the conversation alone without a system prompt', async () => {
      const resource = new ChatCompletionResource({ client, stream: true });
      await collect(resource.stream(messages));
      expect(server.requests[0].body.messages).toEqual(messages);
    });

    it('passes createParams through to the request body', async () => {
      const resource = new ChatCompletionResource({
        client,
        model: 'gpt-test',
        stream: true,
        temperature: 0.2,
        max_tokens: 42,
        response_format: { type: 'json_object' },
        user: 'user-1',
      });
      await collect(resource.stream(messages));
      expect(server.requests[0].path).toBe('/v1/chat/completions');
      expect(server.requests[0].body).toEqual({
        model: 'gpt-test',
        messages,
        stream: true,
        temperature: 0.2,
        max_tokens: 42,
        response_format: { type: 'json_object' },
        user: 'user-1',
        stream_options: { include_usage: true },
      });
    });

    it('asks for usage unless streamUsage is false, keeping stream_options given', async () => {
      await collect(new ChatCompletionResource({ client, stream: true, streamUsage: false }).stream(messages));
      await collect(
        new ChatCompletionResource({ client, stream: true, stream_options: { include_obfuscation: false } }).stream(messages),
      );

      expect(server.requests[0].body.stream_options).toBeUndefined();
      expect(server.requests[1].body.stream_options).toEqual({ include_obfuscation: false, include_usage: true });
    });

    it('skips the role-only first delta, empty deltas and the usage-only chunk', async () => {
      server.setReply({ chunks: ['a', '', 'b'], roleChunk: true, usageChunk: true });
      const resource = new ChatCompletionResource({ client, stream: true });
      await expect(collect(resource.stream(messages))).resolves.toEqual(['a', 'b']);
    });

    it('survives the usage chunk asked for with stream_options.include_usage', async () => {
      server.setReply({ chunks: ['x', 'y'] });
      const resource = new ChatCompletionResource({ client, stream: true, stream_options: { include_usage: true } });
      await expect(collect(resource.stream(messages))).resolves.toEqual(['x', 'y']);
      expect(server.requests[0].body.stream_options).toEqual({ include_usage: true });
    });

    it('completes on [DONE] when no chunk carried a finish_reason, reporting none', async () => {
      server.setReply({ chunks: ['a', 'b'], noFinishReason: true });
      const finished: Array<string | null> = [];
      const resource = new ChatCompletionResource({ client, stream: true });
      await expect(collect(resource.stream(messages, { onFinish: (run) => finished.push(run.finishReason) }))).resolves.toEqual(['a', 'b']);
      expect(finished).toEqual([null]);
    });

    it('completes with nothing when the reply has no text', async () => {
      server.setReply({ chunks: [], usageChunk: true });
      const resource = new ChatCompletionResource({ client, stream: true });
      await expect(collect(resource.stream(messages))).resolves.toEqual([]);
    });

    it('does not call upstream until subscribed', async () => {
      const resource = new ChatCompletionResource({ client, stream: true });
      const stream = resource.stream(messages);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(server.requests).toHaveLength(0);
      await collect(stream);
      expect(server.requests).toHaveLength(1);
    });
  });

  describe('stream() with stream: false', () => {
    it('emits the whole text once, and the upstream request is not streamed', async () => {
      server.setReply({ chunks: ['Hello', ' there', ', friend'] });
      const resource = new ChatCompletionResource({ client, stream: false, system: 'Be brief' });
      await expect(collect(resource.stream(messages))).resolves.toEqual(['Hello there, friend']);
      const body = server.requests[0].body;
      expect(body.stream).not.toBe(true);
      expect(body.messages[0]).toEqual({ role: 'system', content: 'Be brief' });
    });

    it('is the default', async () => {
      const resource = new ChatCompletionResource({ client });
      expect(resource.streaming).toBe(false);
      await expect(collect(resource.stream(messages))).resolves.toEqual([
        MockOpenAIServer.expectedText({}),
      ]);
      expect(server.requests[0].body.stream).not.toBe(true);
    });

    it('emits nothing for an empty reply', async () => {
      server.setReply({ chunks: [] });
      const resource = new ChatCompletionResource({ client });
      await expect(collect(resource.stream(messages))).resolves.toEqual([]);
    });
  });

  it('call() returns the ChatCompletion', async () => {
    server.setReply({ text: 'The whole answer' });
    const resource = new ChatCompletionResource({ client, model: 'gpt-call', temperature: 0 });
    const completion = await resource.call(messages);
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-call');
    expect(completion.choices[0].message).toMatchObject({ role: 'assistant', content: 'The whole answer' });
    expect(server.requests[0].body).toMatchObject({ model: 'gpt-call', temperature: 0, messages });
    expect(server.requests[0].body.stream).not.toBe(true);
  });

  describe('cancellation', () => {
    it('unsubscribing mid-stream aborts the upstream request', async () => {
      server.setReply({ chunkCount: 100, delayMs: 20 });
      const resource = new ChatCompletionResource({ client, stream: true });
      const first = await firstValueFrom(resource.stream(messages).pipe(take(2), toArray(), timeout(3000)));
      expect(first).toEqual(['chunk 0 ', 'chunk 1 ']);
      await server.waitFor(() => server.abortedRequests === 1 && server.openConnections === 0);
      expect(server.abortedRequests).toBe(1);
      expect(server.openConnections).toBe(0);
    });

    it('unsubscribing before the response arrives aborts the upstream request', async () => {
      server.setReply({ hang: true });
      const resource = new ChatCompletionResource({ client, stream: true });
      const subscription = resource.stream(messages).subscribe({ error: () => undefined });
      await server.waitFor(() => server.requests.length === 1);
      subscription.unsubscribe();
      await server.waitFor(() => server.abortedRequests === 1 && server.openConnections === 0);
    });

    it('aborting the signal mid-stream aborts the upstream request and completes the observable', async () => {
      server.setReply({ chunkCount: 100, delayMs: 20 });
      const resource = new ChatCompletionResource({ client, stream: true });
      const controller = new AbortController();
      const chunks: string[] = [];
      const ended = new Promise<string>((resolve) =>
        resource.stream(messages, { signal: controller.signal }).subscribe({
          next: (chunk) => {
            chunks.push(chunk);
            if (chunks.length === 2) {
              controller.abort();
            }
          },
          error: () => resolve('error'),
          complete: () => resolve('complete'),
        }),
      );
      await server.waitFor(() => server.abortedRequests === 1 && server.openConnections === 0);
      expect(await ended).toBe('complete');
      expect(chunks).toEqual(['chunk 0 ', 'chunk 1 ']);
    });

    it('a signal aborted before subscribing sends nothing upstream and completes empty', async () => {
      const resource = new ChatCompletionResource({ client, stream: true });
      const controller = new AbortController();
      controller.abort();
      await expect(collect(resource.stream(messages, { signal: controller.signal }))).resolves.toEqual([]);
      expect(server.requests).toHaveLength(0);
    });

    it('aborting the signal of a non-streaming request aborts it and completes empty', async () => {
      server.setReply({ hang: true });
      const resource = new ChatCompletionResource({ client, stream: false });
      const controller = new AbortController();
      const outcome = collect(resource.stream(messages, { signal: controller.signal }));
      await server.waitFor(() => server.requests.length === 1);
      controller.abort();
      await server.waitFor(() => server.abortedRequests === 1 && server.openConnections === 0);
      await expect(outcome).resolves.toEqual([]);
    });

    it('call() rejects with the SDK abort error when its signal aborts', async () => {
      server.setReply({ hang: true });
      const resource = new ChatCompletionResource({ client });
      const controller = new AbortController();
      const outcome = resource.call(messages, { signal: controller.signal });
      await server.waitFor(() => server.requests.length === 1);
      controller.abort();
      await expect(outcome).rejects.toBeInstanceOf(APIUserAbortError);
    });
  });

  describe('client and model', () => {
    it('without a client, streaming errors with the NO_CLIENT message', async () => {
      for (const stream of [true, false]) {
        const resource = new ChatCompletionResource({ stream });
        const { chunks, error } = await collectUntilError(resource.stream(messages));
        expect(chunks).toEqual([]);
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toBe(NO_CLIENT);
      }
      expect(() => new ChatCompletionResource().client).toThrow(NO_CLIENT);
      expect(server.requests).toHaveLength(0);
    });

    it('uses the default model when none is given', async () => {
      const resource = new ChatCompletionResource({ client, stream: true });
      expect(resource.model).toBeUndefined();
      await collect(resource.stream(messages));
      expect(server.requests[0].body.model).toBe(DEFAULT_MODEL);
    });

    it('withDefaults fills in a missing client and model and returns the resource', async () => {
      const resource = new ChatCompletionResource({ stream: true });
      expect(resource.withDefaults({ client, model: 'module-model' })).toBe(resource);
      expect(resource.client).toBe(client);
      expect(resource.model).toBe('module-model');
      await collect(resource.stream(messages));
      expect(server.requests[0].body.model).toBe('module-model');
    });

    it("withDefaults keeps the factory's own model and client", async () => {
      const other = await MockOpenAIServer.start();
      try {
        const otherClient = new OpenAI({ apiKey: 'other', baseURL: other.url, maxRetries: 0, timeout: 5000, fetch });
        const resource = new ChatCompletionResource({ client, model: 'factory-model', stream: true });
        resource.withDefaults({ client: otherClient, model: 'module-model' });
        expect(resource.model).toBe('factory-model');
        expect(resource.client).toBe(client);
        await collect(resource.stream(messages));
        expect(server.requests[0].body.model).toBe('factory-model');
        expect(other.requests).toHaveLength(0);
      } finally {
        await other.close();
      }
    });

    it('withDefaults fills only what is missing', () => {
      const onlyModel = new ChatCompletionResource({ model: 'factory-model' }).withDefaults({ client, model: 'm' });
      expect(onlyModel.client).toBe(client);
      expect(onlyModel.model).toBe('factory-model');
      const onlyClient = new ChatCompletionResource({ client }).withDefaults({
        client: new OpenAI({ apiKey: 'x', baseURL: server.url }),
        model: 'module-model',
      });
      expect(onlyClient.client).toBe(client);
      expect(onlyClient.model).toBe('module-model');
    });
  });

  describe('upstream failures', () => {
    it('a mid-stream socket reset errors with the SDK APIConnectionError after the chunks sent', async () => {
      const reply = { chunks: ['one ', 'two ', 'three ', 'four'], resetAfterChunks: 2 };
      server.setReply(reply);
      const resource = new ChatCompletionResource({ client, stream: true });
      const { chunks, error } = await collectUntilError(resource.stream(messages));
      expect(chunks.join('')).toBe(MockOpenAIServer.expectedText(reply));
      expect(chunks).toEqual(['one ', 'two ']);
      expect(error).toBeInstanceOf(APIConnectionError);
    });

    it('a reset right after the headers errors with APIConnectionError', async () => {
      server.setReply({ resetAfterChunks: 0 });
      const resource = new ChatCompletionResource({ client, stream: true });
      const { chunks, error } = await collectUntilError(resource.stream(messages));
      expect(chunks).toEqual([]);
      expect(error).toBeInstanceOf(APIConnectionError);
    });

    it('a refused connection errors with APIConnectionError', async () => {
      const gone = await MockOpenAIServer.start();
      const url = gone.url;
      await gone.close();
      const offline = new OpenAI({ apiKey: 'x', baseURL: url, maxRetries: 0, timeout: 5000, fetch });
      const { error } = await collectUntilError(new ChatCompletionResource({ client: offline, stream: true }).stream(messages));
      expect(error).toBeInstanceOf(APIConnectionError);
    });

    it.each<[number, new (...args: any[]) => Error, boolean]>([
      [400, BadRequestError, true],
      [401, AuthenticationError, true],
      [429, RateLimitError, true],
      [500, InternalServerError, true],
      [400, BadRequestError, false],
      [503, InternalServerError, false],
    ])('upstream %i errors with the SDK %p (stream: %p)', async (status, errorClass, stream) => {
      server.setReply({ status, errorMessage: `status ${status} message` });
      const resource = new ChatCompletionResource({ client, stream });
      const { chunks, error } = await collectUntilError(resource.stream(messages));
      expect(chunks).toEqual([]);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as { status?: number }).status).toBe(status);
    });
  });

  describe('an upstream that rejects stream_options', () => {
    it('errors with its 400, its message naming the cause and the fix', async () => {
      server.setReply({ chunks: ['old'], rejectStreamOptions: true });
      const { error } = await collectUntilError(new ChatCompletionResource({ client, stream: true }).stream(messages));
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).error).toMatchObject({
        message: 'Unrecognized request argument supplied: stream_options (the upstream rejected stream_options: set streamUsage: false)',
      });
    });

    it('streams with streamUsage: false', async () => {
      server.setReply({ chunks: ['old', ' server'], rejectStreamOptions: true });
      const resource = new ChatCompletionResource({ client, stream: true, streamUsage: false });
      await expect(collect(resource.stream(messages))).resolves.toEqual(['old', ' server']);
    });

    it('keeps a 400 that does not mention stream_options as it was', async () => {
      server.setReply({ status: 400, errorMessage: 'context too long' });
      const { error } = await collectUntilError(new ChatCompletionResource({ client, stream: true }).stream(messages));
      expect((error as BadRequestError).error).toMatchObject({ message: 'context too long' });
    });
  });

  describe('buildMessages', () => {
    it('keeps only role and content, after the system prompt', () => {
      const resource = new ChatCompletionResource({ system: 'sys' });
      const extra = [
        { role: 'user', content: 'hi', name: 'mallory', tool_call_id: 'x' },
        { role: 'assistant', content: 'yo', tool_calls: [] },
      ] as unknown as ChatMessage[];
      expect(resource.buildMessages(extra)).toEqual([
        { role: 'system', content: 'sys' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'yo' },
      ]);
    });

    it('does not forward extra fields upstream', async () => {
      const extra = [{ role: 'user', content: 'hi', name: 'mallory' }] as unknown as ChatMessage[];
      await collect(new ChatCompletionResource({ client, stream: true }).stream(extra));
      expect(server.requests[0].body.messages).toEqual([{ role: 'user', content: 'hi' }]);
      expect(server.requests[0].body.messages[0]).not.toHaveProperty('name');
    });

    it('does not mutate the given messages', () => {
      const given = [{ role: 'user', content: 'hi', name: 'n' }] as unknown as ChatMessage[];
      new ChatCompletionResource({ system: 's' }).buildMessages(given);
      expect(given).toEqual([{ role: 'user', content: 'hi', name: 'n' }]);
    });
  });
});
