import OpenAI, {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from 'openai';
import { MockOpenAIServer, MockReply, RecordedRequest } from '@lanarky/openai/testing';

const messages = [{ role: 'user' as const, content: 'Say hello' }];

/** POSTs a raw request and returns the parsed SSE `data:` payloads. */
async function rawStream(server: MockOpenAIServer, body: object): Promise<{ contentType: string | null; frames: any[] }> {
  const res = await fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-test', messages, stream: true, ...body }),
  });
  const text = await res.text();
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  const frames = text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => frame.replace(/^data: /, ''))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
  return { contentType: res.headers.get('content-type'), frames };
}

describe('MockOpenAIServer', () => {
  let server: MockOpenAIServer;
  let client: OpenAI;

  beforeAll(async () => {
    server = await MockOpenAIServer.start();
    client = new OpenAI({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
  });
  afterEach(async () => {
    await server.waitFor(() => server.openConnections === 0);
    server.reset();
  });
  afterAll(() => server.close());

  async function streamText(reply?: MockReply, options?: OpenAI.RequestOptions): Promise<string> {
    if (reply) server.enqueueReply(reply);
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true }, options);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    return text;
  }

  it('listens on 127.0.0.1 and exposes the SDK base URL', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/v1`);
    expect(server.port).toBeGreaterThan(0);
  });

  it.each<[string, MockReply]>([
    ['default text', {}],
    ['text word by word', { text: 'The quick brown fox', delayMs: 2 }],
    ['exact chunks', { chunks: ['a', 'bc', '', 'def'] }],
    ['generated chunks', { chunkCount: 5 }],
  ])('streams %s through the SDK', async (_, reply) => {
    await expect(streamText(reply)).resolves.toBe(MockOpenAIServer.expectedText(reply));
    expect(server.openConnections).toBe(0);
  });

  it('computes expected text from the reply', () => {
    expect(MockOpenAIServer.expectedText({})).toBe('Hello from the mock OpenAI server.');
    expect(MockOpenAIServer.expectedText({ chunkCount: 3 })).toBe('chunk 0 chunk 1 chunk 2 ');
    expect(MockOpenAIServer.expectedText({ chunks: ['x', 'y'], text: 'ignored' })).toBe('xy');
    expect(MockOpenAIServer.expectedText({ text: 'a b c', resetAfterChunks: 2 })).toBe('a b');
    expect(MockOpenAIServer.expectedText({ status: 500 })).toBe('');
  });

  it('sends the role-only first delta, a stop chunk and [DONE] on the wire', async () => {
    server.setReply({ text: 'Hi there' });
    const { contentType, frames } = await rawStream(server, {});
    expect(contentType).toBe('text/event-stream');
    expect(frames.map((f) => (f === '[DONE]' ? f : f.choices[0]))).toEqual([
      { index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'Hi' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: ' there' }, logprobs: null, finish_reason: null },
      { index: 0, delta: {}, logprobs: null, finish_reason: 'stop' },
      '[DONE]',
    ]);
    const [first] = frames;
    expect(first).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-test', system_fingerprint: null });
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(frames.slice(0, -1).every((f) => f.id === first.id && f.created === first.created)).toBe(true);
  });

  it('omits the role chunk when asked', async () => {
    server.setReply({ text: 'Hi', roleChunk: false });
    const { frames } = await rawStream(server, {});
    expect(frames[0].choices[0].delta).toEqual({ content: 'Hi' });
  });

  it('ends with [DONE] and no finish_reason when asked (noFinishReason)', async () => {
    server.setReply({ text: 'Hi there', noFinishReason: true });
    const { frames } = await rawStream(server, {});
    expect(frames.map((f) => (f === '[DONE]' ? f : f.choices[0].finish_reason))).toEqual([null, null, null, '[DONE]']);
  });

  it('answers 400 to stream_options when asked (rejectStreamOptions), and streams requests without it', async () => {
    const reply: MockReply = { text: 'Hi', rejectStreamOptions: true };
    server.enqueueReply(reply);
    const rejected = client.chat.completions.create({ model: 'gpt-test', messages, stream: true, stream_options: { include_usage: true } });
    await expect(rejected).rejects.toBeInstanceOf(BadRequestError);
    await expect(rejected).rejects.toMatchObject({ error: { message: 'Unrecognized request argument supplied: stream_options' } });
    await expect(streamText(reply)).resolves.toBe('Hi');
  });

  it.each<[string, MockReply, object]>([
    ['usageChunk', { text: 'one two', usageChunk: true }, {}],
    ['stream_options.include_usage', { text: 'one two' }, { stream_options: { include_usage: true } }],
  ])('sends a usage chunk with empty choices for %s', async (_, reply, body) => {
    server.setReply(reply);
    const { frames } = await rawStream(server, body);
    const usage = frames[frames.length - 2];
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toEqual({ prompt_tokens: 2, completion_tokens: 2, total_tokens: 4 });
    expect(frames[frames.length - 3].choices[0].finish_reason).toBe('stop');
  });

  it('answers non-streaming requests with a chat.completion body', async () => {
    server.setReply({ text: 'All at once' });
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gpt-test',
      choices: [{ index: 0, message: { role: 'assistant', content: 'All at once', refusal: null }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 },
    });
  });

  it.each([
    [400, BadRequestError, 'invalid_request_error', 'Invalid request.'],
    [401, AuthenticationError, 'authentication_error', 'Incorrect API key provided.'],
    [429, RateLimitError, 'rate_limit_error', 'Rate limit reached, please slow down.'],
    [500, InternalServerError, 'server_error', 'The server had an error while processing your request.'],
  ])('maps status %i to %p', async (status, ErrorClass, type, defaultMessage) => {
    server.enqueueReply({ status }, { status, errorMessage: 'custom failure' });
    const defaulted = await streamText().catch((e: unknown) => e);
    expect(defaulted).toBeInstanceOf(ErrorClass);
    expect(defaulted).toMatchObject({ status, type, message: `${status} ${defaultMessage}` });
    const custom = await client.chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    expect(custom).toMatchObject({ status, message: `${status} custom failure` });
  });

  it('answers unknown routes with a 404 error body', async () => {
    await expect(client.models.list()).rejects.toBeInstanceOf(NotFoundError);
    expect(server.requests).toHaveLength(0);
  });

  it('hangs until the SDK times out', async () => {
    server.setReply({ hang: true });
    const started = Date.now();
    const error = await client.chat.completions.create({ model: 'gpt-test', messages }, { timeout: 200 }).catch((e) => e);
    // APIConnectionTimeoutError outside jest; jest's vm realm makes undici's DOMException fail `instanceof Error`,
    // so the SDK degrades it to its parent class APIConnectionError.
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    await server.waitFor(() => server.abortedRequests === 1);
  });

  it.each([0, 2])('resets the socket after %i content chunks, making for-await throw', async (resetAfterChunks) => {
    const reply = { text: 'one two three four', resetAfterChunks };
    server.enqueueReply(reply);
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages, stream: true });
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe(MockOpenAIServer.expectedText(reply));
    // undici's own error (another realm's TypeError), passed through unwrapped by the SDK.
    expect(error).toMatchObject({ name: 'TypeError', message: 'terminated', cause: { code: 'UND_ERR_SOCKET' } });
    expect(server.abortedRequests).toBe(0);
  });

  it('counts and emits a client abort mid-stream, and stops streaming', async () => {
    const aborted: RecordedRequest[] = [];
    server.on('abort', (request: RecordedRequest) => aborted.push(request));
    const controller = new AbortController();
    const reply = { chunkCount: 1000, delayMs: 5 };
    server.once('request', () => setTimeout(() => controller.abort(), 30));
    // The SDK swallows the AbortError: the for-await simply ends early.
    const text = await streamText(reply, { signal: controller.signal });
    expect(text.length).toBeLessThan(MockOpenAIServer.expectedText(reply).length);
    await server.waitFor(() => server.abortedRequests === 1 && server.openConnections === 0);
    expect(aborted).toEqual([server.requests[0]]);
    server.removeAllListeners('abort');
  });

  it('splits multi-byte characters across 1-byte socket writes without corrupting them', async () => {
    const text = 'Héllo 👋🏽 世界 ok 🎉';
    server.setReply({ text, fragmentBytes: 1 });
    await expect(streamText()).resolves.toBe(text);
    const completion = await client.chat.completions.create({ model: 'gpt-test', messages });
    expect(completion.choices[0].message.content).toBe(text);
  });

  it('records requests with body and headers, and emits request and complete', async () => {
    const events: string[] = [];
    server.once('request', () => events.push('request')).once('complete', () => events.push('complete'));
    await streamText({ text: 'ok' });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-test', messages, stream: true } });
    expect(request.headers.authorization).toBe('Bearer test-key');
    await server.waitFor(() => events.length === 2);
    expect(events).toEqual(['request', 'complete']);
  });

  it('uses queued replies first in first out, then the default, and reset restores the start defaults', async () => {
    server.setReply({ text: 'default' });
    server.enqueueReply({ text: 'first' }, { text: 'second' });
    expect([await streamText(), await streamText(), await streamText()]).toEqual(['first', 'second', 'default']);
    server.enqueueReply({ text: 'queued' });
    server.reset();
    expect(server.requests).toHaveLength(0);
    await expect(streamText()).resolves.toBe('Hello from the mock OpenAI server.');
  });

  it('rejects waitFor after its timeout', async () => {
    await expect(server.waitFor(() => false, 20)).rejects.toThrow('waitFor timed out after 20ms');
  });

  it('closes with a hanging request in flight', async () => {
    const own = await MockOpenAIServer.start({ hang: true });
    const ownClient = new OpenAI({ apiKey: 'test-key', baseURL: own.url, maxRetries: 0 });
    const pending = ownClient.chat.completions.create({ model: 'gpt-test', messages }).catch((e: unknown) => e);
    await own.waitFor(() => own.openConnections === 1);
    await own.close();
    await expect(pending).resolves.toBeInstanceOf(APIConnectionError);
    expect(own.abortedRequests).toBe(0);
  });
});
