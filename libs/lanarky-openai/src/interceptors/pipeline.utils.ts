import type { ExecutionContext, LoggerService } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import { APIConnectionError, APIError, type OpenAI } from 'openai';
import type { ChatErrorPayload } from '../events/chat-error';
import { MISSING_KEY_CODE } from '../http/missing-key.fetch';
import { clientSecrets } from '../http/client-secrets';
import { upstreamHost } from '../http/upstream-url';
import {
  NOT_A_RESOURCE,
  NO_API_KEY_CAUSE,
  STREAM_FAILED,
  UPSTREAM_ANSWERED,
  UPSTREAM_UNREACHABLE,
} from '../lanarky-openai.messages';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_IDLE_TIMEOUT, DEFAULT_MODEL } from '../lanarky-openai.constants';
import { isOpenAIResource, type OpenAIResource, type ResourceDefaults } from '../resources/openai.resource';
import { redactSecrets } from '../utils/redact-secrets';

/** The module's client, model and idle timeout, for resources that name none. */
export function resourceDefaults(client: OpenAI, options: LanarkyOpenAIModuleOptions): ResourceDefaults {
  return {
    client,
    model: options.defaultModel ?? DEFAULT_MODEL,
    idleTimeout: options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT,
    streamUsage: options.streamUsage,
  };
}

/**
 * The credentials a request's upstream call went out with: those of the resource's client
 * (known once the factory returned it) and of the module's, which a resource may fall back on.
 */
export function requestSecrets(defaults: ResourceDefaults, client?: OpenAI): string[] {
  return [...clientSecrets(client), ...clientSecrets(defaults.client)];
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
 * Logs a failed request in one line: handler, status, detail and the cause: the error's class,
 * and for an upstream failure the system's code (`ECONNREFUSED`) or the HTTP status, with the
 * upstream's host from `baseURL`. Stacks, bodies, credentials and query strings stay out: the
 * `secrets` the request was sent with are redacted from the whole line. A client's own mistake
 * (an HTTP 4xx) is not logged.
 */
export function logFailure(
  logger: LoggerService,
  handler: string,
  error: unknown,
  { status_code, detail }: ChatErrorPayload,
  baseURL?: string,
  secrets: Iterable<string | null | undefined> = [],
): void {
  if (error instanceof HttpException && status_code < 500) {
    return;
  }
  const line = redactSecrets(STREAM_FAILED(handler, status_code, detail, describeCause(error, baseURL)), secrets);
  if (status_code >= 500) {
    logger.error(line);
  } else {
    logger.warn(line);
  }
}

function describeCause(error: unknown, baseURL: string | undefined): string {
  if (!(error instanceof APIError)) {
    return error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
  }
  const name = error.constructor.name;
  if (error.status === 401 && error.code === MISSING_KEY_CODE) {
    return NO_API_KEY_CAUSE(name);
  }
  const host = upstreamHost(baseURL);
  return error instanceof APIConnectionError ? UPSTREAM_UNREACHABLE(name, systemCode(error), host) : UPSTREAM_ANSWERED(name, error.status, host);
}

/** The first `code` down an error's causes: the SDK wraps fetch's error, which wraps the socket's. */
function systemCode(error: Error): string | undefined {
  let cause: unknown = error.cause;
  for (let depth = 0; depth < 5 && cause && typeof cause === 'object'; depth++) {
    const { code } = cause as { code?: unknown };
    if (typeof code === 'string' && code) {
      return code;
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}
