import {
  HttpException,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { STATUS_CODES } from 'node:http';
import type { OpenAI } from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { Observable } from 'rxjs';
import { callFactoryMethod } from '../completion/factory-method';
import { jsonSchemaFormat, parseAnswer, validateAnswer } from '../completion/structured-output';
import type { CompletionFactory, CompletionMetadata } from '../decorators/use-completion.decorator';
import { InjectOpenAI } from '../decorators/inject-openai.decorator';
import { toChatError } from '../events/chat-error';
import type { ChatResourceFactory } from '../interfaces/chat-resource-factory.interface';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { COMPLETION_METADATA } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { NOT_A_FACTORY } from '../lanarky-openai.messages';
import { ChatCompletionResource } from '../resources/chat-completion.resource';
import type { ResourceDefaults } from '../resources/openai.resource';
import { ChatRuns } from '../lifecycle/chat-runs.service';
import type { ChatRunResult } from '../resources/chat-run';
import { ChatRequestValidator } from '../validation/chat-request.validator';
import { bindResource, handlerName, logFailure, requestSecrets, resourceDefaults } from './pipeline.utils';

/** What the interceptor leaves on a request for `@Completion()`. */
interface ComputedCompletion {
  completion: ChatCompletion;
  json?: unknown;
}

const computed = new WeakMap<object, ComputedCompletion>();

/** The completion computed for `request`, as `@Completion(kind)` hands it out. */
export function completionOf(request: object, kind: 'completion' | 'text' | 'json'): unknown {
  const result = computed.get(request);
  if (!result) {
    return undefined;
  }
  if (kind === 'text') {
    return result.completion.choices[0]?.message?.content ?? '';
  }
  if (kind === 'json') {
    return (result.json ??= parseAnswer(result.completion));
  }
  return result.completion;
}

/**
 * The pipeline of `@UseCompletion()`: validates the request, builds the factory's resource
 * (running the factory method's own parameter pipes), calls it, and leaves the completion for
 * `@Completion()`. Failures answer with the protocol's statuses as plain HTTP errors.
 */
@Injectable()
export class CompletionInterceptor implements NestInterceptor {
  private readonly logger = new Logger('LanarkyOpenAI');
  private readonly defaults: ResourceDefaults;

  constructor(
    @InjectOpenAI() client: OpenAI,
    @Inject(LANARKY_OPENAI_OPTIONS) options: LanarkyOpenAIModuleOptions,
    private readonly validator: ChatRequestValidator,
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly runs: ChatRuns,
  ) {
    this.defaults = resourceDefaults(client, options);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { messages } = await this.validator.validateRequest(request);
    const { factory, schema } = this.reflector.get<CompletionMetadata>(COMPLETION_METADATA, context.getHandler());
    const handler = handlerName(context);

    // The client may leave while the model thinks: then the call is aborted.
    const left = new AbortController();
    const onClose = () => left.abort();
    response.once('close', onClose);
    let client: OpenAI | undefined;
    try {
      const resource = bindResource(await this.build(factory, context, request), handler, this.defaults);
      client = resource.client;
      if (schema && resource instanceof ChatCompletionResource) {
        resource.withResponseFormat(jsonSchemaFormat(schema));
      }
      // The run's error detail is redacted already: the resource's run knows the keys its client sent.
      const onFinish = (result: ChatRunResult) => this.runs.report({ ...result, handler, transport: 'http' });
      const completion = await resource.call(messages, { signal: left.signal, onFinish });
      const json = schema ? await validateAnswer(parseAnswer(completion), schema as Type<object>) : undefined;
      computed.set(request, { completion, json });
    } catch (error) {
      throw this.asHttpError(error, handler, client);
    } finally {
      response.off('close', onClose);
    }
    return next.handle();
  }

  /** Runs the factory: a method of the handler's class with its own parameters, or a provider. */
  private async build(factory: CompletionFactory, context: ExecutionContext, request: Request) {
    const { prototype } = context.getClass();
    if (Object.getOwnPropertyNames(prototype).some((name) => prototype[name] === factory)) {
      return callFactoryMethod(this.moduleRef, context, factory as (...args: unknown[]) => unknown);
    }
    const provider = this.moduleRef.get<ChatResourceFactory>(factory as Type<ChatResourceFactory>, { strict: false });
    if (typeof provider?.create !== 'function') {
      throw new TypeError(NOT_A_FACTORY(handlerName(context)));
    }
    return provider.create({ request });
  }

  /** An HTTP error for what failed: the client's own 4xx as is, the rest mapped and logged. */
  private asHttpError(error: unknown, handler: string, client: OpenAI | undefined): HttpException {
    if (error instanceof HttpException && error.getStatus() < 500) {
      return error;
    }
    const secrets = requestSecrets(this.defaults, client);
    if (error instanceof HttpException && error.getStatus() === 502) {
      logFailure(this.logger, handler, error, { status_code: 502, detail: error.message }, undefined, secrets);
      return error;
    }
    const payload = toChatError(error, { secrets });
    logFailure(this.logger, handler, error, payload, client?.baseURL, secrets);
    if (payload.status_code === 500) {
      return new InternalServerErrorException();
    }
    const { status_code: statusCode, detail: message } = payload;
    return new HttpException({ statusCode, message, error: STATUS_CODES[statusCode] }, statusCode);
  }
}
