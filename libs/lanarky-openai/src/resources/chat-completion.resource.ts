import { APIConnectionError, APIConnectionTimeoutError, APIError, OpenAIError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { Logger } from '@nestjs/common';
import { createParser } from 'eventsource-parser';
import { Observable, type Subscriber } from 'rxjs';
import { clientSecrets } from '../http/client-secrets';
import { readText } from '../http/upstream-fetch';
import { DEFAULT_MODEL } from '../lanarky-openai.constants';
import {
  CHUNK_NOT_JSON,
  ON_FINISH_FAILED,
  STREAM_CUT_SHORT,
  STREAM_OPTIONS_REJECTED,
  UPSTREAM_REJECTED,
} from '../lanarky-openai.messages';
import { ChatRun, type ChatRunResult } from './chat-run';
import {
  OpenAIResource,
  type ChatMessage,
  type OpenAIResourceOptions,
  type ResourceCallOptions,
} from './openai.resource';

const logger = new Logger('LanarkyOpenAI');

/** Parameters of `chat.completions.create` that a resource passes through as given. */
export type ChatCompletionParams = Omit<ChatCompletionCreateParamsBase, 'messages' | 'model' | 'stream'>;

/** Options of {@link ChatCompletionResource}. */
export interface ChatCompletionResourceOptions extends OpenAIResourceOptions, ChatCompletionParams {
  /** Stream the reply chunk by chunk (true) or send it whole, once (false, the default). */
  stream?: boolean;
  /** System prompt, prepended to every conversation. */
  system?: string;
}

/**
 * A chat completion to serve: what a `@ChatResource()` factory returns.
 *
 * @example
 * \@ChatResource('chat')
 * chat(\@Query('stream', new ParseLenientBoolPipe({ default: true })) stream: boolean) {
 *   return new ChatCompletionResource({ stream, system: 'You are a sassy assistant' });
 * }
 */
export class ChatCompletionResource extends OpenAIResource {
  /** Whether the reply streams chunk by chunk. */
  readonly streaming: boolean;
  /** The system prompt, if any. */
  readonly system?: string;
  private readonly params: ChatCompletionParams;

  constructor({
    client,
    model,
    idleTimeout,
    streamUsage,
    onFinish,
    stream = false,
    system,
    ...params
  }: ChatCompletionResourceOptions = {}) {
    super({ client, model, idleTimeout, streamUsage, onFinish });
    this.streaming = stream;
    this.system = system;
    this.params = params;
  }

  /** Asks for `format` (say, a JSON schema) unless the factory chose a `response_format` itself. */
  withResponseFormat(format: NonNullable<ChatCompletionParams['response_format']>): this {
    this.params.response_format ??= format;
    return this;
  }

  /** The messages sent upstream: the system prompt first, then the conversation. */
  buildMessages(messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
    const conversation = messages.map(({ role, content }) => ({ role, content }));
    return this.system ? [{ role: 'system', content: this.system }, ...conversation] : conversation;
  }

  /** Asks for the whole reply at once. */
  async call(messages: readonly ChatMessage[], { signal, onFinish }: ResourceCallOptions = {}): Promise<ChatCompletion> {
    const run = this.startRun(onFinish);
    try {
      const completion = await this.request(messages, signal, run);
      run.end();
      return completion;
    } catch (error) {
      run.end(signal?.aborted ? { aborted: true } : { error });
      throw error;
    }
  }

  /**
   * Streams the reply: one chunk per upstream delta that carries text, or the whole text once
   * when `stream` is false. Unsubscribing aborts the upstream request; so does aborting
   * `signal`, which then completes the stream. Failures error it with the SDK's error classes.
   * Either way the run is reported once to `onFinish`.
   */
  stream(messages: readonly ChatMessage[], { signal, onFinish }: ResourceCallOptions = {}): Observable<string> {
    return new Observable<string>((subscriber) => {
      const run = this.startRun(onFinish);
      const upstream = new AbortController();
      const abort = () => upstream.abort();
      if (signal?.aborted) {
        abort();
      }
      signal?.addEventListener('abort', abort, { once: true });
      let settled = false;
      this.produce(messages, upstream.signal, subscriber, run).then(
        () => {
          settled = true;
          run.end({ aborted: upstream.signal.aborted });
          subscriber.complete();
        },
        (error: unknown) => {
          settled = true;
          // The caller's abort ends the stream as a finished one, whenever it comes.
          if (upstream.signal.aborted) {
            run.end({ aborted: true });
            return subscriber.complete();
          }
          run.end({ error });
          subscriber.error(error);
        },
      );
      return () => {
        signal?.removeEventListener('abort', abort);
        // A run that ended on its own has nothing left to abort (and an abort costs an exception).
        if (!settled) {
          run.end({ aborted: true });
          upstream.abort();
        }
      };
    });
  }

  private startRun(onFinish?: (result: ChatRunResult) => void): ChatRun {
    return new ChatRun(
      (result) => {
        for (const listener of [this.onFinish, onFinish]) {
          try {
            listener?.(result);
          } catch (error) {
            logger.error(ON_FINISH_FAILED(error));
          }
        }
      },
      // Read at the end: a run that failed for want of a client has no secrets to hide.
      () => (this.hasClient ? clientSecrets(this.client) : []),
    );
  }

  private async request(messages: readonly ChatMessage[], signal: AbortSignal | undefined, run: ChatRun) {
    const completion = await this.client.chat.completions.create(
      { ...this.params, model: this.model ?? DEFAULT_MODEL, messages: this.buildMessages(messages), stream: false },
      { signal },
    );
    const choice = completion.choices[0];
    run.finishReason = choice?.finish_reason ?? null;
    run.usage = completion.usage;
    run.model = completion.model;
    if (choice?.message?.content) {
      run.chunk();
    }
    return completion;
  }

  private async produce(messages: readonly ChatMessage[], signal: AbortSignal, subscriber: Subscriber<string>, run: ChatRun) {
    if (!this.streaming) {
      const text = (await this.request(messages, signal, run)).choices[0]?.message?.content;
      if (text) {
        subscriber.next(text);
      }
      return;
    }
    // The request has its own controller, so that a stall can end it apart from the caller.
    const client = this.client;
    const request = new AbortController();
    const stop = () => request.abort();
    if (signal.aborted) {
      stop();
    }
    signal.addEventListener('abort', stop, { once: true });
    let stalled = false;
    const idle = this.idleTimeout ? setTimeout(() => ((stalled = true), stop()), this.idleTimeout) : undefined;
    const usage = this.streamUsage ? { stream_options: { ...this.params.stream_options, include_usage: true } } : {};
    let done = false;
    // The body is read and parsed here with eventsource-parser: the SDK's own decoder re-copies
    // its buffer for every event, the largest cost on this path after the socket writes.
    try {
      const response = await client.chat.completions
        .create(
          { ...this.params, ...usage, model: this.model ?? DEFAULT_MODEL, messages: this.buildMessages(messages), stream: true },
          { signal: request.signal },
        )
        .asResponse();
      idle?.refresh();
      const parser = createParser({
        onEvent: ({ data }) => {
          if (done) {
            return;
          }
          if (data.startsWith('[DONE]')) {
            done = true;
            return;
          }
          const chunk = JSON.parse(data) as ChatCompletionChunk & { error?: object };
          if (chunk.error) {
            throw new APIError(undefined, chunk.error, undefined, response.headers);
          }
          const choice = chunk.choices[0];
          // Role-only deltas, `content: null` and usage-only chunks (empty `choices`) carry no text.
          const text = choice?.delta?.content;
          if (text) {
            run.chunk();
            subscriber.next(text);
          }
          if (choice?.finish_reason) {
            run.finishReason = choice.finish_reason;
          }
          if (chunk.usage) {
            run.usage = chunk.usage;
          }
          run.model ??= chunk.model;
        },
      });
      await readText(response, (text) => {
        idle?.refresh();
        parser.feed(text);
        return !done;
      });
    } catch (error) {
      throw stalled ? new APIConnectionTimeoutError() : asSdkError(error, this.streamUsage);
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', stop);
    }
    // An abort can end the read quietly; so does a body that ends early.
    if (stalled) {
      throw new APIConnectionTimeoutError();
    }
    // `[DONE]` ends a stream as a finish reason does: some OpenAI-compatible servers send only the one.
    if (!done && !run.finishReason && !signal.aborted) {
      throw new APIConnectionError({ message: STREAM_CUT_SHORT });
    }
  }
}

/**
 * Failures of a stream in the SDK's own terms: a broken socket, or a chunk that is not JSON; an
 * upstream's 400 that blames the `stream_options` asked for usage says how to stop asking.
 */
function asSdkError(error: unknown, sentStreamOptions: boolean | undefined): unknown {
  if (error instanceof APIError && sentStreamOptions && rejectsStreamOptions(error)) {
    const body = (error.error ?? {}) as { message?: unknown };
    const detail = typeof body.message === 'string' && body.message ? body.message : UPSTREAM_REJECTED;
    return APIError.generate(error.status, { error: { ...body, message: STREAM_OPTIONS_REJECTED(detail) } }, undefined, error.headers);
  }
  if (error instanceof OpenAIError) {
    return error;
  }
  if (error instanceof SyntaxError) {
    return new APIError(undefined, undefined, CHUNK_NOT_JSON, undefined);
  }
  return new APIConnectionError({ cause: error as Error });
}

/** A 400 or 422 (servers validating with FastAPI) whose message names `stream_options`. */
function rejectsStreamOptions(error: APIError): boolean {
  return (error.status === 400 || error.status === 422) && /stream_options/i.test(error.message);
}
