import type { MessageEvent } from '@nestjs/common';
import { Observable, catchError, map, of, type OperatorFunction } from 'rxjs';
import { ChatEventType, type ChatEvent } from './chat-event';
import { toChatError, type ChatErrorOptions, type ChatErrorPayload } from './chat-error';

/** Options of {@link toChatEvents} and {@link toSseEvents}. */
export interface ChatEventOptions {
  /** Called once with the error that ended the stream and what the client is told of it. */
  onError?: (error: unknown, payload: ChatErrorPayload) => void;
  /**
   * The credentials the stream's client sends (say, `[client.apiKey]`), or a function read when
   * an error comes: an upstream message that quotes one reaches the client as `[redacted]`.
   */
  secrets?: ChatErrorOptions['secrets'] | (() => ChatErrorOptions['secrets']);
}

/** Options of {@link toSseEvents}. */
export interface SseEventOptions extends ChatEventOptions {
  /** Milliseconds without an event after which a `: ping` comment is sent (0 or absent: never). */
  keepAliveInterval?: number;
}

/**
 * Turns a resource's text chunks into chat events: one `completion` event per chunk, and an
 * error into one `error` event that ends the stream. For custom gateways and handlers.
 *
 * @example
 * resource.stream(messages).pipe(toChatEvents())
 */
export function toChatEvents(options: ChatEventOptions = {}): OperatorFunction<string, ChatEvent> {
  return (source) =>
    source.pipe(
      map((data): ChatEvent => ({ event: ChatEventType.Completion, data })),
      catchError((error) => of<ChatEvent>({ event: ChatEventType.Error, data: report(error, options) })),
    );
}

/**
 * Turns a resource's text chunks into the `MessageEvent`s of Nest's `@Sse()`, per the wire
 * protocol: `completion` events, at most one JSON `error` event, and keep-alive comments.
 *
 * @example
 * \@Sse('chat', { method: RequestMethod.POST })
 * chat(\@Body() body: ChatRequestDto) {
 *   return this.resource.stream(body.messages).pipe(toSseEvents());
 * }
 */
export function toSseEvents(options: SseEventOptions = {}): OperatorFunction<string, MessageEvent> {
  const events = (source: Observable<string>) =>
    source.pipe(
      map((data): MessageEvent => ({ type: ChatEventType.Completion, data })),
      catchError((error) => of<MessageEvent>({ type: ChatEventType.Error, data: report(error, options) })),
    );
  const interval = options.keepAliveInterval ?? 0;
  return interval > 0 ? (source) => keepAlive(events(source), interval) : events;
}

/** The error event's payload for a failure, reported to the caller's hook first. */
export function report(error: unknown, options: ChatEventOptions): ChatErrorPayload {
  const { secrets } = options;
  const payload = toChatError(error, { secrets: typeof secrets === 'function' ? secrets() : secrets });
  options.onError?.(error, payload);
  return payload;
}

const PING: MessageEvent = { comment: 'ping' };

/** Sends a comment whenever a whole interval passed with no event; one flag a chunk, one timer a stream. */
function keepAlive(source: Observable<MessageEvent>, interval: number): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    let quiet = true;
    const timer = setInterval(() => {
      if (quiet) {
        subscriber.next(PING);
      }
      quiet = true;
    }, interval);
    const subscription = source.subscribe({
      next: (event) => {
        quiet = false;
        subscriber.next(event);
      },
      error: (error) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => {
      clearInterval(timer);
      subscription.unsubscribe();
    };
  });
}
