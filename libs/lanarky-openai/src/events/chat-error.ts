import { HttpException, HttpStatus } from '@nestjs/common';
import { isObject } from '@nestjs/common/utils/shared.utils';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import {
  INTERNAL_SERVER_ERROR,
  UPSTREAM_AUTH_FAILED,
  UPSTREAM_CONNECTION_LOST,
  UPSTREAM_ERROR,
  UPSTREAM_RATE_LIMITED,
  UPSTREAM_REJECTED,
  UPSTREAM_TIMEOUT,
} from '../lanarky-openai.messages';
import { redactSecrets } from '../utils/redact-secrets';

/** The `data` of an `error` event: Lanarky's field names, with a real status code. */
export interface ChatErrorPayload {
  status_code: number;
  detail: string;
}

/** Options of {@link toChatError}. */
export interface ChatErrorOptions {
  /**
   * Credentials the failed request was sent with (the API keys of its client and of the
   * module's): an upstream message that quotes one has it replaced by `[redacted]`.
   */
  secrets?: Iterable<string | null | undefined>;
}

/** Upstream statuses whose message is the client's to read (its request was at fault). */
const CLIENT_FAULTS = new Set([400, 404, 422]);

/**
 * Maps any error met while serving a chat request to what the client is told, per the
 * protocol's table. The one place where statuses are decided: never echoes stacks, nor the
 * `secrets` an upstream's own message may quote.
 *
 * @example
 * toChatError(new RateLimitError(...)) // { status_code: 429, detail: 'Rate limited by upstream' }
 * toChatError(new BadRequestError(...), { secrets: [client.apiKey] }) // { status_code: 400, detail: 'bad key Bearer [redacted]' }
 */
export function toChatError(error: unknown, { secrets }: ChatErrorOptions = {}): ChatErrorPayload {
  // Timeout extends connection error in the SDK, so it is checked first.
  if (error instanceof APIConnectionTimeoutError) {
    return payload(HttpStatus.GATEWAY_TIMEOUT, UPSTREAM_TIMEOUT);
  }
  if (error instanceof APIConnectionError) {
    return payload(HttpStatus.BAD_GATEWAY, UPSTREAM_CONNECTION_LOST);
  }
  if (error instanceof APIError) {
    return fromUpstreamStatus(error, secrets);
  }
  // Raised on purpose for the client by a pipe or a factory (say, a bad query parameter), or
  // a 503 while the server shuts down.
  if (error instanceof HttpException && (error.getStatus() < 500 || error.getStatus() === HttpStatus.SERVICE_UNAVAILABLE)) {
    return payload(error.getStatus(), httpExceptionDetail(error));
  }
  return payload(HttpStatus.INTERNAL_SERVER_ERROR, INTERNAL_SERVER_ERROR);
}

function fromUpstreamStatus(error: APIError, secrets: ChatErrorOptions['secrets']): ChatErrorPayload {
  const status = error.status;
  if (status !== undefined && CLIENT_FAULTS.has(status)) {
    const message = (error.error as { message?: unknown } | undefined)?.message;
    return payload(status, typeof message === 'string' && message ? redactSecrets(message, secrets) : UPSTREAM_REJECTED);
  }
  if (status === 401 || status === 403) {
    return payload(HttpStatus.BAD_GATEWAY, UPSTREAM_AUTH_FAILED);
  }
  if (status === 429) {
    return payload(HttpStatus.TOO_MANY_REQUESTS, UPSTREAM_RATE_LIMITED);
  }
  // 5xx, other statuses, and errors the upstream reported inside its stream.
  return payload(HttpStatus.BAD_GATEWAY, UPSTREAM_ERROR);
}

function httpExceptionDetail(error: HttpException): string {
  const response = error.getResponse();
  const message = isObject(response) ? (response as { message?: unknown }).message : response;
  if (Array.isArray(message)) {
    return message.join('; ');
  }
  return typeof message === 'string' ? message : error.message;
}

function payload(status_code: number, detail: string): ChatErrorPayload {
  return { status_code, detail };
}
