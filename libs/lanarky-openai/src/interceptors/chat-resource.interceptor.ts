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
import { APIError, type OpenAI } from 'openai';
import { Observable, catchError, map, of, switchMap, take, throwError } from 'rxjs';
import type { ChatResourceOptions } from '../decorators/chat-resource.decorator';
import { InjectOpenAI } from '../decorators/inject-openai.decorator';
import type { ChatErrorPayload } from '../events/chat-error';
import { ChatEventType } from '../events/chat-event';
import { report, toSseEvents } from '../events/chat-event.operators';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { CHAT_RESOURCE_METADATA, DEFAULT_KEEP_ALIVE_INTERVAL, DEFAULT_MODEL } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { NOT_A_RESOURCE, STREAM_FAILED } from '../lanarky-openai.messages';
import { isOpenAIResource, type OpenAIResource } from '../resources/openai.resource';
import { ChatRequestValidator } from '../validation/chat-request.validator';

/**
 * The pipeline of `@ChatResource()`: validates the request before the factory's resource
 * runs, binds the module's client to the resource, and streams its chunks as protocol events.
 */
@Injectable()
export class ChatResourceInterceptor implements NestInterceptor {
  private readonly logger = new Logger('LanarkyOpenAI');
  private readonly defaults: { client: OpenAI; model: string };

  constructor(
    @InjectOpenAI() client: OpenAI,
    @Inject(LANARKY_OPENAI_OPTIONS) private readonly options: LanarkyOpenAIModuleOptions,
    private readonly validator: ChatRequestValidator,
    private readonly reflector: Reflector,
  ) {
    this.defaults = { client, model: options.defaultModel ?? DEFAULT_MODEL };
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<MessageEvent>> {
    const http = context.switchToHttp();
    // Thrown before the stream opens, so Nest answers with a plain 4xx and upstream sees nothing.
    const { messages } = await this.validator.validateRequest(http.getRequest<Request>());
    const response = http.getResponse<Response>();
    const handler = `${context.getClass().name}.${context.getHandler().name}`;
    const onError = (error: unknown, payload: ChatErrorPayload) => this.logFailure(handler, error, payload);
    const { keepAliveInterval = this.options.keepAliveInterval ?? DEFAULT_KEEP_ALIVE_INTERVAL } =
      this.reflector.get<ChatResourceOptions | undefined>(CHAT_RESOURCE_METADATA, context.getHandler()) ?? {};

    return next.handle().pipe(
      take(1),
      map((value) => this.asResource(value, handler)),
      switchMap((resource) => resource.stream(messages).pipe(toSseEvents({ keepAliveInterval, onError }))),
      catchError((error: unknown) =>
        // A pipe's 4xx (say, a bad query parameter) still gets a plain answer while it can.
        error instanceof HttpException && !response.headersSent
          ? throwError(() => error)
          : of<MessageEvent>({ type: ChatEventType.Error, data: report(error, { onError }) }),
      ),
    );
  }

  private asResource(value: unknown, handler: string): OpenAIResource {
    if (!isOpenAIResource(value)) {
      throw new TypeError(NOT_A_RESOURCE(handler, value));
    }
    return value.withDefaults(this.defaults);
  }

  private logFailure(handler: string, error: unknown, { status_code, detail }: ChatErrorPayload) {
    // Names and messages only: stacks, request bodies and keys stay out of the log; an
    // upstream's own words (which may quote a key) are left to the detail the client got.
    const cause =
      error instanceof APIError ? error.constructor.name : error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
    const line = STREAM_FAILED(handler, status_code, detail, cause);
    if (status_code >= 500) {
      this.logger.error(line);
    } else {
      this.logger.warn(line);
    }
  }
}
