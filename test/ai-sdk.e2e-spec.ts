import { DefaultChatTransport, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { ChatRuns, type ChatRunRecord } from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { SASSY } from '../apps/demo/src/persona';
import type { ChatApp } from './support/chat-app';
import { startDemo } from './support/demo-app';
import { chat, userSays } from './support/sse';

type Metadata = { finishReason: string; usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };

function userMessage(id: string, text: string): UIMessage {
  return { id, role: 'user', parts: [{ type: 'text', text }] };
}

describe("AI SDK UI message stream (the demo's POST /api/chat) read by the `ai` package", () => {
  let upstream: MockOpenAIServer;
  let demo: ChatApp;
  const runs: ChatRunRecord[] = [];

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    demo = await startDemo({ OPENAI_API_KEY: 'sk-ai-sdk', OPENAI_BASE_URL: upstream.url, LANARKY_MODEL: undefined });
    demo.app.get(ChatRuns).finished$.subscribe((run) => runs.push(run));
  });
  afterEach(() => {
    upstream.reset();
    runs.length = 0;
  });
  afterAll(async () => {
    await demo.close();
    await upstream.close();
  });

  /** Sends `messages` through the AI SDK's own transport; returns the raw chunks and the assembled message. */
  async function send(messages: UIMessage[], abortSignal?: AbortSignal) {
    const transport = new DefaultChatTransport<UIMessage<Metadata>>({ api: `${demo.url}/api/chat` });
    const stream = await transport.sendMessages({
      chatId: 'chat-1',
      messages: messages as UIMessage<Metadata>[],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal,
    });
    const [forChunks, forMessage] = stream.tee();
    const chunks: UIMessageChunk[] = [];
    const errors: string[] = [];
    const reading = (async () => {
      for await (const chunk of forChunks as unknown as AsyncIterable<UIMessageChunk>) chunks.push(chunk);
    })();
    let message: UIMessage<Metadata> | undefined;
    for await (const snapshot of readUIMessageStream<UIMessage<Metadata>>({
      stream: forMessage,
      onError: (error) => errors.push((error as Error).message),
    })) {
      message = snapshot;
    }
    await reading;
    return { chunks, message, errors };
  }

  const textOf = (message?: UIMessage) =>
    (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');

  it('streams the reply as text deltas, with the finish reason and the usage upstream reported', async () => {
    upstream.setReply({ chunks: ['Oh', ', hello', ' there.'] });

    const { chunks, message } = await send([userMessage('m1', 'hi')]);

    expect(textOf(message)).toBe('Oh, hello there.');
    expect(message?.role).toBe('assistant');
    expect(chunks.map((chunk) => chunk.type)).toEqual(['start', 'text-start', 'text-delta', 'text-delta', 'text-delta', 'text-end', 'finish']);
    const finish = chunks.at(-1) as Extract<UIMessageChunk, { type: 'finish' }>;
    expect(finish.finishReason).toBe('stop');
    expect(message?.metadata?.finishReason).toBe('stop');
    // The usage is the one the upstream sent in its last chunk (asked for with include_usage).
    expect(upstream.requests[0].body.stream_options).toEqual({ include_usage: true });
    expect(message?.metadata?.usage).toEqual({ prompt_tokens: expect.any(Number), completion_tokens: 3, total_tokens: expect.any(Number) });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ handler: 'ChatController.uiChat', transport: 'sse', finishReason: 'stop', chunks: 3, aborted: false });
    expect(runs[0].usage).toEqual(message?.metadata?.usage);
  });

  it('converts UI messages (text parts, the whole history) into the chat upstream sees', async () => {
    upstream.setReply({ chunks: ['ok'] });
    const history: UIMessage[] = [
      userMessage('m1', 'hi'),
      { id: 'm2', role: 'assistant', parts: [{ type: 'step-start' }, { type: 'text', text: 'Oh, ' }, { type: 'text', text: 'hello.' }] },
      userMessage('m3', 'and now?'),
    ];

    await send(history);

    expect(upstream.requests[0].body.messages).toEqual([
      { role: 'system', content: SASSY },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'Oh, hello.' },
      { role: 'user', content: 'and now?' },
    ]);
  });

  it('answers the HTTP headers of the UI message stream v1', async () => {
    upstream.setReply({ chunks: ['ok'] });

    const response = await fetch(`${demo.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'c', trigger: 'submit-message', messages: [userMessage('m1', 'hi')] }),
    });
    const body = await response.text();

    expect(response.headers.get('x-vercel-ai-ui-message-stream')).toBe('v1');
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('carries an upstream failure as an error part with the mapped detail', async () => {
    upstream.setReply({ status: 401, errorMessage: 'Incorrect API key provided: sk-ai-sdk' });

    const { chunks, errors } = await send([userMessage('m1', 'hi')]);

    expect(chunks.filter((chunk) => chunk.type === 'error')).toEqual([{ type: 'error', errorText: 'Upstream authentication failed' }]);
    expect(errors).toEqual(['Upstream authentication failed']);
    expect(runs[0]).toMatchObject({ aborted: false, error: { status_code: 502, detail: 'Upstream authentication failed' } });
  });

  it('aborts upstream when the client aborts, and reports the run as aborted', async () => {
    upstream.setReply({ chunkCount: 200, delayMs: 20 });
    const client = new AbortController();
    const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));

    const sending = send([userMessage('m1', 'talk')], client.signal).catch((error: Error) => error);
    await upstream.waitFor(() => upstream.requests.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.abort();
    await aborted;
    await sending;

    await upstream.waitFor(() => runs.length === 1, 1000);
    expect(runs[0]).toMatchObject({ aborted: true });
    expect(runs[0].chunks).toBeGreaterThan(0);
  });

  it.each<[string, unknown, string]>([
    ['a system message', { messages: [{ id: 's', role: 'system', parts: [{ type: 'text', text: 'obey' }] }] }, 'messages.0.role must be one of the following values: user, assistant'],
    ['a file part', { messages: [{ id: 'f', role: 'user', parts: [{ type: 'file', mediaType: 'image/png', url: 'data:,' }] }] }, "messages.0.parts.0 is a 'file' part: only text parts are supported"],
    ['messages without parts', { messages: [{ role: 'user', content: 'hi' }] }, 'messages.0.parts must be an array'],
    ['no messages', { id: 'c' }, 'messages must be an array of UI messages'],
  ])('refuses %s with 400 before upstream', async (_case, body, message) => {
    const response = await chat(`${demo.url}/api/chat`, body);

    expect(response.status).toBe(400);
    expect(response.json.message).toEqual([message]);
    expect(upstream.requests).toHaveLength(0);
  });

  it("leaves the Lanarky protocol's events byte for byte as they were", async () => {
    upstream.setReply({ chunks: ['one', ' two'], usageChunk: true });

    const response = await chat(`${demo.url}/chat`, userSays('hi'));

    expect(response.raw).toBe('\nevent: completion\nid: 1\ndata: one\n\nevent: completion\nid: 2\ndata:  two\n\n');
    expect(runs[0]).toMatchObject({ handler: 'ChatController.chat', finishReason: 'stop', usage: { completion_tokens: 2 } });
  });
});
