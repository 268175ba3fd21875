import OpenAI, { APIConnectionError, APIConnectionTimeoutError, RateLimitError } from 'openai';
import { MockOpenAIServer } from '../testing';
import { readText, UpstreamFetch } from './upstream-fetch';

const CHAT = { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] };

function post(upstream: UpstreamFetch, server: MockOpenAIServer, init: RequestInit = {}): Promise<Response> {
  return upstream.fetch(`${server.url}/chat/completions`, {
    method: 'post',
    headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
    body: JSON.stringify(CHAT),
    ...init,
  });
}

/** The whole body through readText, with the number of pieces it came in. */
async function readAll(response: Response): Promise<{ text: string; pieces: number }> {
  let text = '';
  let pieces = 0;
  await readText(response, (piece) => {
    text += piece;
    pieces++;
    return true;
  });
  return { text, pieces };
}

describe('UpstreamFetch', () => {
  let server: MockOpenAIServer;
  let upstream: UpstreamFetch;

  beforeAll(async () => {
    server = await MockOpenAIServer.start({ chunks: ['Hello', ' wörld', ' 👋'] });
  });
  beforeEach(() => {
    upstream = new UpstreamFetch();
  });
  afterEach(async () => {
    await upstream.onApplicationShutdown();
    await server.waitFor(() => server.openConnections === 0 && server.socketsOpen === 0);
    server.reset();
  });
  afterAll(() => server.close());

  it('sends the method, headers and body, and answers with a standard Response', async () => {
    const response = await post(upstream, server);

    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.url).toBe(`${server.url}/chat/completions`);
    const text = await response.text();
    expect(text).toContain('"content":" wörld"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: CHAT });
    expect(server.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('readText gives the same text as the web stream, multi-byte characters whole', async () => {
    server.setReply({ chunks: ['Hello', ' wörld', ' 👋'], fragmentBytes: 7 });
    const viaText = await (await post(upstream, server)).text();

    const { text, pieces } = await readAll(await post(upstream, server));

    // Two requests: each has its own id and may fall in another second.
    const same = (raw: string) => raw.replace(/chatcmpl-[0-9a-f]+/g, 'chatcmpl-id').replace(/"created":\d+/g, '"created":0');
    expect(same(text)).toBe(same(viaText));
    expect(text).toContain('👋');
    expect(text).not.toContain('\uFFFD');
    expect(pieces).toBeGreaterThan(10);
  });

  it('reuses its connections, also after a reader that stopped before the end', async () => {
    let calls = 0;
    for (let request = 0; request < 10; request++) {
      const response = await post(upstream, server);
      await (request % 2 ? readAll(response) : readText(response, () => ++calls % 2 === 1));
    }

    expect(server.requests).toHaveLength(10);
    // undici may open a second connection while the first is being released; never one a request.
    expect(server.socketsAccepted).toBeLessThanOrEqual(2);
  });

  it('rejects with what the reader threw, and drops that request', async () => {
    server.setReply({ chunkCount: 200, delayMs: 5 });
    const failure = new SyntaxError('not JSON');

    const reading = readText(await post(upstream, server), () => {
      throw failure;
    });

    await expect(reading).rejects.toBe(failure);
    await server.waitFor(() => server.abortedRequests === 1);
  });

  it('rejects readText when the upstream resets mid-body', async () => {
    server.setReply({ chunkCount: 50, resetAfterChunks: 2 });
    await expect(readAll(await post(upstream, server))).rejects.toThrow();
  });

  it('fails an unreachable server as fetch does: TypeError("fetch failed") with the cause', async () => {
    const gone = await MockOpenAIServer.start();
    await gone.close();

    const error = await upstream.fetch(`${gone.url}/chat/completions`, { method: 'POST', body: '{}' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect((error as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('rejects with an AbortError when aborted before the headers, and the upstream sees the abort', async () => {
    server.setReply({ hang: true });
    const controller = new AbortController();
    const pending = post(upstream, server, { signal: controller.signal });
    await server.waitFor(() => server.requests.length === 1);

    controller.abort();

    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await server.waitFor(() => server.abortedRequests === 1);
  });

  it('ends readText with an error when aborted mid-body', async () => {
    server.setReply({ chunkCount: 5, stallAfterChunks: 1 });
    const controller = new AbortController();
    const response = await post(upstream, server, { signal: controller.signal });
    const reading = readText(response, () => {
      controller.abort();
      return true;
    });

    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
    await server.waitFor(() => server.abortedRequests === 1);
  });

  it('answers a status without a body (204) with a null body', async () => {
    server.setReply({ status: 204 });
    const response = await post(upstream, server);

    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('hands a body it cannot send as is (form data) to the global fetch', async () => {
    // A server of its own: the global fetch keeps its connection in a pool of its own.
    const other = await MockOpenAIServer.start();
    const global = jest.spyOn(globalThis, 'fetch');
    try {
      const form = new FormData();
      form.set('purpose', 'fine-tune');
      const response = await upstream.fetch(`${other.url}/files`, { method: 'POST', body: form });

      expect(global).toHaveBeenCalledTimes(1);
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('Invalid URL (POST /v1/files)');
    } finally {
      global.mockRestore();
      await other.close();
    }
  });

  it('closes its pooled connections on application shutdown', async () => {
    await readAll(await post(upstream, server));
    expect(server.socketsOpen).toBeGreaterThan(0);

    await upstream.onApplicationShutdown();

    await server.waitFor(() => server.socketsOpen === 0);
  });

  describe('under the openai SDK', () => {
    function client(init: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
      return new OpenAI({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0, fetch: upstream.fetch, ...init });
    }

    it('gets whole completions', async () => {
      server.setReply({ text: 'All of it at once.' });
      const completion = await client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      expect(completion.choices[0].message.content).toBe('All of it at once.');
    });

    it("reads error bodies into the SDK's error classes", async () => {
      server.setReply({ status: 429, errorMessage: 'slow down' });
      const error = await client()
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).message).toContain('slow down');
    });

    it('lets the SDK retry 429s, reusing the connection', async () => {
      server.enqueueReply({ status: 429, retryAfterMs: 1 }, { status: 429, retryAfterMs: 1 });
      server.setReply({ text: 'third time lucky' });
      const completion = await client({ maxRetries: 2 }).chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0].message.content).toBe('third time lucky');
      expect(server.requests).toHaveLength(3);
      expect(server.socketsAccepted).toBe(1);
    });

    it('is told a timeout (APIConnectionTimeoutError) from a refused connection (APIConnectionError)', async () => {
      server.setReply({ hang: true });
      const timedOut = await client({ timeout: 100 })
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(APIConnectionTimeoutError);

      const gone = await MockOpenAIServer.start();
      await gone.close();
      const refused = await client({ baseURL: gone.url })
        .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(APIConnectionError);
      expect(refused).not.toBeInstanceOf(APIConnectionTimeoutError);
    });
  });
});
