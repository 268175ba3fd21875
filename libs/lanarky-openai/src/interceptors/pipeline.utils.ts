import type { ExecutionContext, LoggerService } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import { APIError, type OpenAI } from 'openai';
import type { ChatErrorPayload } from '../events/chat-error';
import { NOT_A_RESOURCE, STREAM_FAILED } from '../lanarky-openai.messages';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_IDLE_TIMEOUT, DEFAULT_MODEL } from '../lanarky-openai.constants';
import { isOpenAIResource, type OpenAIResource, type ResourceDefaults } from '../resources/openai.resource';

/** The module's client, model and idle timeout, for resources that name none. */
export function resourceDefaults(client: OpenAI, options: LanarkyOpenAIModuleOptions): ResourceDefaults {
  return {
    client,
    model: options.defaultModel ?? DEFAULT_MODEL,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    streamUsage: options.streamUsage,
  };
}

/** `Class.method` of the handler a context runs, for log lines. */
export function handlerName(context: ExecutionContext): string {
  return `${context.getClass().name}.${context.getHandler().name}`;
}

/** The factory's return value as a resource bound to the module's defaults; a TypeError if it is none. */
export function bindResource(value: unknown, handler: string, defaults: ResourceDefaults): OpenAIResource {
  if (!isOpenAIResource(value)) {
    throw new TypeError(NOT_A_RESOURCE(handler, value));
  }
  return value.withDefaults(defaults);
}

/**
 * Logs a failed request in one line: handler, status, detail and the error's class. Stacks,
 * bodies and keys stay out; an upstream's own words (which may quote a key) are left to the
 * detail the client got. A client's own mistake (an HTTP 4xx) is not logged.
 */
export function logFailure(logger: LoggerService, handler: string, error: unknown, { status_code, detail }: ChatErrorPayload): void {
  if (error instanceof HttpException && status_code < 500) {
    return;
  }
  const cause =
    error instanceof APIError ? error.constructor.name : error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
  const line = STREAM_FAILED(handler, status_code, detail, cause);
  if (status_code >= 500) {
    logger.error(line);
  } else {
    logger.warn(line);
  }
}
