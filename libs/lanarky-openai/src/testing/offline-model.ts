import {
  completionBody,
  completionMeta,
  errorBody,
  estimateUsage,
  messageText,
  pause,
  splitWords,
  sseFrames,
} from './openai-wire';

/** The model name the offline model reports when the request names none. */
export const OFFLINE_MODEL = 'lanarky-offline';

/** A chat message as far as the offline model cares (SDK message params fit). */
export interface OfflineMessage {
  role: string;
  content?: unknown;
}

/** Options of {@link createOfflineFetch}. */
export interface OfflineFetchOptions {
  /** Delay before each streamed word, in ms (default 30). */
  delayMs?: number;
}

/** Collapses whitespace and shortens long quotes. */
function quote(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The exact text the offline model answers to `messages`. */
export function offlineReply(messages: readonly OfflineMessage[]): string {
  const user = [...messages].reverse().find((m) => m.role === 'user');
  const system = messages.find((m) => m.role === 'system' || m.role === 'developer');
  const asked = user ? quote(messageText(user.content), 80) : '';
  const opening = asked
    ? `Oh, you said "${asked}"? Bold of you to ask a model that lives entirely inside this process.`
    : 'You said nothing at all, which is honestly refreshing.';
  const instructions = system ? quote(messageText(system.content), 60) : '';
  const persona = instructions ? ` My instructions say "${instructions}", and I take that very seriously.` : '';
  return (
    `${opening}${persona} I am Lanarky's offline model: no network, no API key, just canned sass streamed word by word.` +
    ' Set OPENAI_API_KEY or OPENAI_BASE_URL and you get a real model to roll its eyes at you.'
  );
}

function abortError(signal?: AbortSignal | null): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Streams the frames, pausing before each content frame; an abort errors the body and clears the timer. */
function frameStream(frames: string[], contentRange: [number, number], delayMs: number, signal?: AbortSignal | null) {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  let next = 0;
  let onAbort = () => {};
  const finish = () => {
    stop.abort();
    signal?.removeEventListener('abort', onAbort);
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      onAbort = () => {
        finish();
        controller.error(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    },
    async pull(controller) {
      if (next >= contentRange[0] && next < contentRange[1]) await pause(delayMs, stop.signal);
      if (stop.signal.aborted) return;
      controller.enqueue(encoder.encode(frames[next++]));
      if (next < frames.length) return;
      finish();
      controller.close();
    },
    cancel: finish,
  });
}

/**
 * The exact JSON text the offline model sends when a request asks for JSON output:
 * `{"answer": <its usual reply>, "model": "lanarky-offline"}`.
 */
export function offlineJsonReply(messages: readonly OfflineMessage[]): string {
  return JSON.stringify({ answer: offlineReply(messages), model: OFFLINE_MODEL });
}

/**
 * A `fetch` that answers chat-completions requests locally, in the OpenAI wire format,
 * so the real SDK parses a real response: `new OpenAI({ apiKey: 'offline', fetch: createOfflineFetch() })`.
 */
export function createOfflineFetch(options: OfflineFetchOptions = {}): typeof fetch {
  const delayMs = options.delayMs ?? 30;
  const offlineFetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const request = input instanceof Request ? input : undefined;
    const signal = init.signal ?? request?.signal;
    if (signal?.aborted) throw abortError(signal);
    const url = new URL(request ? request.url : String(input));
    const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
    if (method !== 'POST' || !url.pathname.endsWith('/chat/completions')) {
      return json(404, errorBody(404, `Invalid URL (${method} ${url.pathname})`));
    }
    let body: any;
    try {
      body = JSON.parse(typeof init.body === 'string' ? init.body : await new Response(init.body ?? request?.body).text());
      if (typeof body !== 'object' || body === null) throw new TypeError('not an object');
    } catch {
      return json(400, errorBody(400, 'We could not parse the JSON body of your request.'));
    }
    const messages: OfflineMessage[] = Array.isArray(body.messages) ? body.messages : [];
    const meta = completionMeta(typeof body.model === 'string' ? body.model : OFFLINE_MODEL);
    // Asked for JSON (json_object or json_schema), the offline model answers a JSON document.
    const wantsJson = typeof body.response_format?.type === 'string' && body.response_format.type.startsWith('json');
    const words = splitWords(wantsJson ? offlineJsonReply(messages) : offlineReply(messages));
    const usage = estimateUsage(messages, words.length);
    if (!body.stream) return json(200, completionBody(meta, words.join(''), usage));

    const wantsUsage = body.stream_options?.include_usage === true;
    const { head, contents, tail } = sseFrames(meta, words, { usage: wantsUsage ? usage : undefined });
    const stream = frameStream([head, ...contents, tail], [1, 1 + contents.length], delayMs, signal);
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
  return offlineFetch as typeof fetch;
}
