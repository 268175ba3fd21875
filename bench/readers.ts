import { request, type Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import WebSocket, { type RawData } from 'ws';

/** One stream as the load generator read it; times in ms from the stream's start. */
export interface StreamResult {
  text: string;
  events: number;
  /** -1 when no text event came. */
  ttfeMs: number;
  durationMs: number;
  error?: string;
}

/** Turns one SSE event into its text chunk, an error, or nothing (events that carry no text). */
export type SseDecoder = (event: EventSourceMessage) => string | Error | undefined;

/** The upstream's OpenAI chunks: `data: {"choices":[{"delta":{"content":"..."}}]}`, then `[DONE]`. */
export const decodeOpenAIEvent: SseDecoder = ({ data }) => {
  if (data === '[DONE]') return undefined;
  const chunk = JSON.parse(data);
  if (chunk.error) return new Error(`upstream error: ${JSON.stringify(chunk.error)}`);
  return chunk.choices?.[0]?.delta?.content || undefined;
};

/** Lanarky's events: `event: completion` with the raw chunk, `event: error` with JSON. */
export const decodeLanarkyEvent: SseDecoder = ({ event, data }) => {
  if (event === 'completion') return data;
  if (event === 'error') return new Error(`error event: ${data}`);
  return undefined;
};

/** Where an SSE request goes and how to read what comes back. */
export interface SseRequest {
  port: number;
  path: string;
  body: string;
  /** A keep-alive agent to reuse connections, or `false` for a connection of its own. */
  agent: Agent | false;
  decode: SseDecoder;
  timeoutMs: number;
}

/** POSTs `body` and reads the event stream with `http.request` and eventsource-parser. Never rejects. */
export function readSse({ port, path, body, agent, decode, timeoutMs }: SseRequest): Promise<StreamResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const parts: string[] = [];
    let ttfe = -1;
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) req.destroy();
      resolve({ text: parts.join(''), events: parts.length, ttfeMs: ttfe, durationMs: performance.now() - start, error });
    };
    const timer = setTimeout(() => finish(`timeout after ${timeoutMs} ms`), timeoutMs);
    const parser = createParser({
      onEvent: (event) => {
        let decoded: string | Error | undefined;
        try {
          decoded = decode(event);
        } catch (error) {
          decoded = new Error(`unreadable event (${(error as Error).message}): ${event.data.slice(0, 100)}`);
        }
        if (decoded === undefined) return;
        if (decoded instanceof Error) return finish(decoded.message);
        if (ttfe < 0) ttfe = performance.now() - start;
        parts.push(decoded);
      },
    });
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          accept: 'text/event-stream',
        },
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return finish(`HTTP ${res.statusCode}`);
        }
        res.setEncoding('utf8');
        res.on('data', (text: string) => parser.feed(text));
        res.on('end', () => finish());
        res.on('error', (error) => finish(`response error: ${error.message}`));
        res.on('close', () => finish(res.complete ? undefined : 'connection closed mid-stream'));
      },
    );
    req.on('error', (error) => finish(`request error: ${error.message}`));
    req.end(body);
  });
}

/** Opens a websocket with the `ws` package; rejects on failure or after `timeoutMs`. */
export function openSocket(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`websocket not open after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Sends one turn's frame and reads frames up to `end`. `start` is when the stream began (before the
 * socket opened, for a socket of its own). Never rejects; an `error` frame is waited past, to `end`.
 */
export function readWsTurn(socket: WebSocket, frame: string, start: number, timeoutMs: number): Promise<StreamResult> {
  return new Promise((resolve) => {
    const parts: string[] = [];
    let ttfe = -1;
    let settled = false;
    let failure: string | undefined;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('message', onMessage);
      socket.off('close', onClose);
      resolve({ text: parts.join(''), events: parts.length, ttfeMs: ttfe, durationMs: performance.now() - start, error });
    };
    const onMessage = (data: RawData) => {
      let parsed: { event?: unknown; data?: unknown };
      try {
        parsed = JSON.parse(data.toString());
      } catch {
        return finish(`unreadable frame: ${data.toString().slice(0, 100)}`);
      }
      if (parsed.event === 'completion' && typeof parsed.data === 'string') {
        if (ttfe < 0) ttfe = performance.now() - start;
        parts.push(parsed.data);
      } else if (parsed.event === 'end') {
        finish(failure);
      } else {
        failure ??= `unexpected frame: ${JSON.stringify(parsed).slice(0, 200)}`;
      }
    };
    const onClose = (code: number) => finish(failure ?? `socket closed (${code}) mid-turn`);
    const timer = setTimeout(() => finish(`timeout after ${timeoutMs} ms`), timeoutMs);
    socket.on('message', onMessage);
    socket.on('close', onClose);
    socket.send(frame);
  });
}
