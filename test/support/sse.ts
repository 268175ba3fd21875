import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** A finished SSE response, parsed by a spec-compliant parser. */
export interface SseResponse {
  status: number;
  headers: Headers;
  /** The raw body, for byte-exact checks. */
  raw: string;
  /** Events in order; `event` is 'message' when the server named none. */
  events: EventSourceMessage[];
  /** Comment lines (`: ping`), in order. */
  comments: string[];
  /** The JSON body when the answer was not an event stream. */
  json?: any;
}

/** Sends a chat request the way a client does. */
export function postChat(
  url: string,
  body: unknown,
  init: { headers?: Record<string, string>; rawBody?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: init.rawBody ?? JSON.stringify(body),
    signal: init.signal,
  });
}

/** Reads a whole response, parsing it as SSE when it is one. */
export async function readSse(response: Response): Promise<SseResponse> {
  const raw = await response.text();
  const result: SseResponse = { status: response.status, headers: response.headers, raw, events: [], comments: [] };
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    result.json = raw ? JSON.parse(raw) : undefined;
    return result;
  }
  const parser = createParser({
    onEvent: (event) => result.events.push(event),
    onComment: (comment) => result.comments.push(comment),
  });
  parser.feed(raw);
  return result;
}

/** Posts and reads in one go. */
export async function chat(url: string, body: unknown, init?: Parameters<typeof postChat>[2]): Promise<SseResponse> {
  return readSse(await postChat(url, body, init));
}

/** The text of the completion events, joined. */
export function completionText(response: SseResponse): string {
  return response.events
    .filter((event) => event.event === 'completion')
    .map((event) => event.data)
    .join('');
}

/** A conversation of one user message. */
export function userSays(content: string) {
  return { messages: [{ role: 'user', content }] };
}
