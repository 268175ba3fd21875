import {
  HttpException,
  Inject,
  Injectable,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type MessageEvent,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import type { OpenAI } from 'openai';
import { Observable, catchError, defer, endWith, map, of, switchMap, take, takeUntil, tap, throwError } from 'rxjs';
import type { ChatResourceOptions } from '../decorators/chat-resource.decorator';
import { InjectOpenAI } from '../decorators/inject-openai.decorator';
import type { ChatErrorPayload } from '../events/chat-error';
import { ChatEventType, type ChatEvent } from '../events/chat-event';
import { fromUiMessages } from '../ai-sdk/ui-messages';
import { toUiMessageStream, uiErrorParts } from '../ai-sdk/ui-message-stream';
import { report, toChatEvents, toSseEvents } from '../events/chat-event.operators';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { CHAT_RESOURCE_METADATA, DEFAULT_KEEP_ALIVE_INTERVAL } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import type { ChatMessage, OpenAIResource, ResourceDefaults } from '../resources/openai.resource';
import { ChatRuns, type ChatRunRecord } from '../lifecycle/chat-runs.service';
import { ChatStreamTracker } from '../lifecycle/chat-stream.tracker';
import type { ChatRunResult } from '../resources/chat-run';
import { ChatRequestValidator } from '../validation/chat-request.validator';
import { assertScalarQueries } from '../validation/scalar-query';
import { END_FRAME } from '../ws/chat-frames';
import { cancellationOf } from '../ws/chat-socket';
import { corkEachTurn } from '../utils/cork-for-this-turn';
import { bindResource, handlerName, logFailure, requestSecrets, resourceDefaults } from './pipeline.utils';

/**
 * The pipeline of `@ChatResource()`, for controllers and gateways alike: validates the request
 * before the factory's resource runs, binds the module's client to the resource, and streams
 * its chunks as protocol events: SSE `MessageEvent`s over HTTP, `{ event, data }` frames over
 * websockets, each turn ending with `end`.
 */
@Injectable()
export class ChatResourceInterceptor implements NestInterceptor {
  private readonly logger = new Logger('LanarkyOpenAI');
  private readonly defaults: ResourceDefaults;

  constructor(
    @InjectOpenAI() client: OpenAI,
    @Inject(LANARKY_OPENAI_OPTIONS) private readonly options: LanarkyOpenAIModuleOptions,
    private readonly validator: ChatRequestValidator,
    private readonly reflector: Reflector,
    private readonly streams: ChatStreamTracker,
    private readonly runs: ChatRuns,
  ) {
    this.defaults = resourceDefaults(client, options);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<MessageEvent | ChatEvent>> {
    return context.getType() === 'ws' ? this.turn(context, next) : this.sse(context, next);
  }

  private async sse(context: ExecutionContext, next: CallHandler): Promise<Observable<MessageEvent>> {
    const http = context.switchToHttp();
    const { keepAliveInterval = this.options.keepAliveInterval ?? DEFAULT_KEEP_ALIVE_INTERVAL, protocol } =
      this.reflector.get<ChatResourceOptions | undefined>(CHAT_RESOURCE_METADATA, context.getHandler()) ?? {};
    const aiSdk = protocol === 'ai-sdk';
    // Thrown before the stream opens, so Nest answers with a plain 4xx and upstream sees nothing.
    const request = http.getRequest<Request>();
    assertScalarQueries(context.getClass(), context.getHandler(), request.query);
    const { messages } = await this.validator.validateRequest(request, aiSdk ? fromUiMessages : undefined);
    const response = http.getResponse<Response>();
    const upstream: Upstream = {};
    const onError = this.onError(context, upstream);
    const secrets = this.secrets(upstream);
    // The AI SDK's `finish` part carries the run's figures, known once the stream ended.
    let result: ChatRunResult | undefined;
    const reportRun = this.onFinish(context, 'sse');
    const onFinish = (run: ChatRunResult) => reportRun((result = run));
    const events = aiSdk
      ? toUiMessageStream(() => result, { onError, secrets })
      : toSseEvents({ keepAliveInterval, onError, secrets });

    return this.resource(context, next, upstream).pipe(
      switchMap((resource) => this.streams.track(resource.stream(messages, { onFinish })).pipe(events)),
      catchError((error: unknown) => {
        // A pipe's 4xx (say, a bad query parameter) still gets a plain answer while it can.
        if (error instanceof HttpException && !response.headersSent) {
          return throwError(() => error);
        }
        const payload = report(error, { onError, secrets });
        return aiSdk ? of(...uiErrorParts(payload.detail)) : of<MessageEvent>({ type: ChatEventType.Error, data: payload });
      }),
      // Nest writes each event on its own; the events of one turn leave in one write instead.
      corkEachTurn(response),
    );
  }

  private turn(context: ExecutionContext, next: CallHandler): Observable<ChatEvent> {
    const ws = context.switchToWs();
    const cancelled = cancellationOf(ws.getClient());
    const upstream: Upstream = {};
    return defer(() => this.validator.validate(ws.getData())).pipe(
      switchMap(({ messages }) => this.chunks(context, next, messages, upstream).pipe(takeUntil(cancelled))),
      toChatEvents({ onError: this.onError(context, upstream), secrets: this.secrets(upstream) }),
      endWith(END_FRAME),
    );
  }

  private chunks(context: ExecutionContext, next: CallHandler, messages: ChatMessage[], upstream: Upstream): Observable<string> {
    const onFinish = this.onFinish(context, 'ws');
    return this.resource(context, next, upstream).pipe(
      switchMap((resource) => this.streams.track(resource.stream(messages, { onFinish }))),
    );
  }

  /** The factory's resource, with the module's client and model where it names none; notes its upstream for the log. */
  private resource(context: ExecutionContext, next: CallHandler, upstream: Upstream): Observable<OpenAIResource> {
    return next.handle().pipe(
      take(1),
      map((value: unknown) => bindResource(value, handlerName(context), this.defaults)),
      tap((resource) => (upstream.client = resource.client)),
    );
  }

  private onFinish(context: ExecutionContext, transport: ChatRunRecord['transport']) {
    const handler = handlerName(context);
    // The run's error detail is redacted already: the resource's run knows the keys its client sent.
    return (result: ChatRunResult) => this.runs.report({ ...result, handler, transport });
  }

  private onError(context: ExecutionContext, upstream: Upstream) {
    const handler = handlerName(context);
    return (error: unknown, payload: ChatErrorPayload) =>
      logFailure(this.logger, handler, error, payload, upstream.client?.baseURL, this.secrets(upstream)());
  }

  /** The credentials the request's upstream call went out with, read when an error needs them. */
  private secrets(upstream: Upstream): () => string[] {
    return () => requestSecrets(this.defaults, upstream.client);
  }
}

/** The client a request's resource calls, once the factory has returned it. */
interface Upstream {
  client?: OpenAI;
}
