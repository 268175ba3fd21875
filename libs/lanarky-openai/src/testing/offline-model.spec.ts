import OpenAI, { NotFoundError } from 'openai';
import { createOfflineFetch, OFFLINE_MODEL, offlineReply } from '@lanarky/openai/testing';

const messages = [
  { role: 'system' as const, content: 'You are a sassy assistant' },
  { role: 'user' as const, content: 'First question' },
  { role: 'assistant' as const, content: 'First answer' },
  { role: 'user' as const, content: 'What is   the\nmeaning of life?' },
];

function offlineClient(delayMs = 1): OpenAI {
  return new OpenAI({
    apiKey: 'offline',
    baseURL: 'http://offline.lanarky/v1',
    fetch: createOfflineFetch({ delayMs }),
    maxRetries: 0,
  });
}

describe('offline model', () => {
  it('writes a deterministic, sassy reply to the last user message', () => {
    const reply = offlineReply(messages);
    expect(reply).toBe(offlineReply(messages));
    expect(reply).toContain('"What is the meaning of life?"');
    expect(reply).toContain('"You are a sassy assistant"');
    expect(reply).toContain("Lanarky's offline model");
    expect(reply).toMatch(/OPENAI_API_KEY.*OPENAI_BASE_URL/);
  });

  it('handles content parts, long messages and missing user messages', () => {
    expect(offlineReply([{ role: 'user', content: [{ type: 'text', text: 'from parts' }] }])).toContain('"from parts"');
    expect(offlineReply([{ role: 'user', content: 'x'.repeat(500) }])).toContain(`"${'x'.repeat(79)}…"`);
    expect(offlineReply([])).toMatch(/^You said nothing at all/);
    expect(offlineReply([{ role: 'user', content: 'hi' }])).not.toContain('instructions');
  });

  it('streams the reply word by word through the real SDK', async () => {
    const stream = await offlineClient().chat.completions.create({ model: OFFLINE_MODEL, messages, stream: true });
    const deltas: string[] = [];
    for await (const chunk of stream) {
      expect(chunk.model).toBe(OFFLINE_MODEL);
      deltas.push(chunk.choices[0]?.delta.content ?? '');
    }
    expect(deltas.join('')).toBe(offlineReply(messages));
    expect(deltas.filter(Boolean).length).toBe(offlineReply(messages).split(' ').length);
  });

  it('sends a usage chunk when the request includes usage', async () => {
    const stream = await offlineClient().chat.completions.create({
      model: OFFLINE_MODEL,
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[chunks.length - 1]).toMatchObject({ choices: [], usage: { completion_tokens: chunks.length - 3 } });
  });

  it('answers non-streaming requests', async () => {
    const completion = await offlineClient().chat.completions.create({ model: 'custom', messages });
    expect(completion.model).toBe('custom');
    expect(completion.choices[0].message.content).toBe(offlineReply(messages));
  });

  it('stops streaming when the request is aborted', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const stream = await offlineClient(20).chat.completions.create(
      { model: OFFLINE_MODEL, messages, stream: true },
      { signal: controller.signal },
    );
    let text = '';
    setTimeout(() => controller.abort(), 50);
    // The SDK swallows the AbortError: the for-await simply ends early.
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(offlineReply(messages).startsWith(text)).toBe(true);
    expect(text.length).toBeLessThan(offlineReply(messages).length);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('rejects at once when the signal is already aborted, and 404s other routes', async () => {
    const offlineFetch = createOfflineFetch();
    await expect(
      offlineFetch('http://offline.lanarky/v1/chat/completions', { method: 'POST', body: '{}', signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    await expect(offlineClient().models.list()).rejects.toBeInstanceOf(NotFoundError);
  });
});
