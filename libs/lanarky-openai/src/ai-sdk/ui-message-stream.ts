import type { MessageEvent } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Observable, catchError, concat, defer, endWith, map, of, type OperatorFunction } from 'rxjs';
import { report, type ChatEventOptions } from '../events/chat-event.operators';
import type { ChatRunResult } from '../resources/chat-run';

/** Headers of the AI SDK's UI message stream protocol, version 1. */
export const UI_MESSAGE_STREAM_HEADER = 'x-vercel-ai-ui-message-stream';

/** OpenAI's finish reasons in the AI SDK's words. */
const FINISH_REASONS: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content-filter',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
};

/** What the `finish` part's `messageMetadata` carries. */
export interface UiMessageMetadata {
  finishReason: string;
  usage?: ChatRunResult['usage'];
  model?: string;
}

/**
 * Turns a resource's text chunks into the AI SDK's UI message stream (v1), as `@Sse()`
 * `MessageEvent`s: `start`, `text-start`, one `text-delta` per chunk, `text-end`, `finish` with
 * the finish reason and usage (from `result()`, read when the stream ends), or an `error` part
 * with the mapped detail; then `[DONE]`.
 */
export function toUiMessageStream(
  result: () => ChatRunResult | undefined,
  options: ChatEventOptions = {},
): OperatorFunction<string, MessageEvent> {
  return (source: Observable<string>) =>
    defer(() => {
      const id = randomUUID();
      return concat(
        of(part({ type: 'start', messageId: id }), part({ type: 'text-start', id })),
        source.pipe(map((delta) => part({ type: 'text-delta', id, delta }))),
        defer(() => of(part({ type: 'text-end', id }), finish(result()))),
      ).pipe(
        catchError((error) => of(uiErrorParts(report(error, options).detail)[0])),
        endWith(done()),
      );
    });
}

/** The parts that end a stream that failed before it started: an `error` part, then `[DONE]`. */
export function uiErrorParts(detail: string): MessageEvent[] {
  return [part({ type: 'error', errorText: detail }), done()];
}

/** A new object each time: Nest writes the event's `id` into it. */
function done(): MessageEvent {
  return { data: '[DONE]' };
}

function finish(run: ChatRunResult | undefined): MessageEvent {
  const finishReason = FINISH_REASONS[run?.finishReason ?? ''] ?? 'unknown';
  const messageMetadata: UiMessageMetadata = { finishReason, usage: run?.usage, model: run?.model };
  return part({ type: 'finish', finishReason, messageMetadata });
}

function part(data: object): MessageEvent {
  return { data };
}
