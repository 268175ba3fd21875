import { randomBytes } from 'node:crypto';

/** Identity shared by every chunk of one completion. */
export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

/** Token counts as reported in the `usage` field. */
export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The SSE frames of one streamed completion: `contents` holds one frame per content delta. */
export interface SseFrames {
  head: string;
  contents: string[];
  tail: string;
}

/** The frame that ends every stream. */
export const SSE_DONE = 'data: [DONE]\n\n';

/** Creates the id, timestamp and model shared by the chunks of one completion. */
export function completionMeta(model: string): CompletionMeta {
  return { id: `chatcmpl-${randomBytes(12).toString('hex')}`, created: Math.floor(Date.now() / 1000), model };
}

/** Serializes one value as an SSE `data:` frame. */
export function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** A `chat.completion.chunk` object carrying one delta. */
export function chunk(meta: CompletionMeta, delta: Record<string, unknown>, finishReason: string | null = null) {
  return {
    ...meta,
    object: 'chat.completion.chunk',
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** The trailing chunk sent for `stream_options.include_usage`: no choices, only usage. */
export function usageChunk(meta: CompletionMeta, usage: WireUsage) {
  return { ...meta, object: 'chat.completion.chunk', system_fingerprint: null, choices: [], usage };
}

/** Builds every SSE frame of a streamed completion whose content deltas are `contents` (the `stop` chunk unless `finishChunk: false`). */
export function sseFrames(
  meta: CompletionMeta,
  contents: string[],
  options: { roleChunk?: boolean; usage?: WireUsage; finishChunk?: boolean } = {},
): SseFrames {
  const head = options.roleChunk === false ? '' : sse(chunk(meta, { role: 'assistant', content: '' }));
  const usage = options.usage ? sse(usageChunk(meta, options.usage)) : '';
  return {
    head,
    contents: contents.map((content) => sse(chunk(meta, { content }))),
    tail: (options.finishChunk === false ? '' : sse(chunk(meta, {}, 'stop'))) + usage + SSE_DONE,
  };
}

/** The non-streaming `chat.completion` body. */
export function completionBody(meta: CompletionMeta, content: string, usage: WireUsage) {
  return {
    ...meta,
    object: 'chat.completion',
    choices: [
      { index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' },
    ],
    usage,
  };
}

const ERRORS: Record<number, [type: string, code: string | null, message: string]> = {
  400: ['invalid_request_error', null, 'Invalid request.'],
  401: ['authentication_error', 'invalid_api_key', 'Incorrect API key provided.'],
  403: ['permission_error', null, 'You are not allowed to perform this request.'],
  404: ['invalid_request_error', 'not_found', 'Not found.'],
  429: ['rate_limit_error', 'rate_limit_exceeded', 'Rate limit reached, please slow down.'],
  500: ['server_error', null, 'The server had an error while processing your request.'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
};

/** An OpenAI error body for `status`, with a sensible default message. */
export function errorBody(status: number, message?: string) {
  const [type, code, fallback] = ERRORS[status] ?? [
    status >= 500 ? 'server_error' : 'invalid_request_error',
    null,
    `Upstream error (status ${status}).`,
  ];
  return { error: { message: message ?? fallback, type, param: null, code } };
}

/** Splits a text into word chunks, each space staying with the word after it. */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}

/** Flattens a message `content` (string or content parts) into plain text. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('');
}

/** A rough, deterministic usage estimate: one token per prompt word and per content chunk. */
export function estimateUsage(messages: unknown, completionChunks: number): WireUsage {
  const prompt = Array.isArray(messages) ? messages.map((m) => messageText(m?.content)).join(' ') : '';
  const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
  return { prompt_tokens: promptTokens, completion_tokens: completionChunks, total_tokens: promptTokens + completionChunks };
}

/** Resolves after `ms`, or at once when `signal` aborts (the timer is then cleared). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
