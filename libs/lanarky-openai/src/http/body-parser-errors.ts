import {
  BadRequestException,
  HttpException,
  Logger,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import {
  BODY_BAD_FRAMING,
  BODY_CHARSET_UNSUPPORTED,
  BODY_CLIENT_LEFT,
  BODY_ENCODING_UNSUPPORTED,
  BODY_NOT_DECODED,
  BODY_NOT_RECEIVED,
  BODY_TIMED_OUT,
  BODY_TOO_LARGE,
} from '../lanarky-openai.messages';

const logger = new Logger('LanarkyOpenAI');

/** What body-parser (through http-errors and raw-body) passes to `next()`. */
export interface BodyParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  charset?: string;
  encoding?: string;
}

/**
 * The error Nest should answer for a body-parser failure. The client's mistakes become Nest's
 * own 4xx exceptions, answered without a log line (Nest logs anything else as an ERROR with its
 * stack); a body that never arrived whole (the client left, sent broken chunks, or was too slow)
 * is logged once as a WARN naming why, since no one can be told. Other errors pass unchanged.
 */
export function bodyParserRefusal(error: unknown, request: IncomingMessage, bodyLimit: number): unknown {
  if (!error || typeof error !== 'object' || error instanceof HttpException) {
    return error;
  }
  const failure = error as BodyParserError;
  const status = failure.status ?? failure.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    return error;
  }
  if (failure.type === 'request.aborted' || request.socket?.destroyed) {
    logger.warn(BODY_NOT_RECEIVED(request.method ?? 'POST', pathOf(request), whyNotReceived(request)));
    return new BadRequestException();
  }
  switch (failure.type) {
    case 'entity.too.large':
      return new PayloadTooLargeException(BODY_TOO_LARGE(bodyLimit));
    case 'charset.unsupported':
      return new UnsupportedMediaTypeException(BODY_CHARSET_UNSUPPORTED(failure.charset));
    case 'encoding.unsupported':
      return new UnsupportedMediaTypeException(BODY_ENCODING_UNSUPPORTED(failure.encoding));
    case 'entity.parse.failed':
      // Nest answers a parse error with 400 and its message itself.
      return error;
    case undefined:
      // A decompression stream's own error: the body is not the gzip, deflate or br it claims.
      return new BadRequestException(BODY_NOT_DECODED(request.headers['content-encoding']));
    default:
      return new HttpException({ statusCode: status, message: STATUS_CODES[status], error: STATUS_CODES[status] }, status);
  }
}

/** Why a body stopped: the socket's own error, which Node sets before the request aborts. */
function whyNotReceived(request: IncomingMessage): string {
  const code = (request.socket?.errored as { code?: unknown } | null | undefined)?.code;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return BODY_TIMED_OUT((request.socket as { server?: { requestTimeout?: number } }).server?.requestTimeout ?? 0);
  }
  if (typeof code === 'string' && code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE') {
    return BODY_BAD_FRAMING(code);
  }
  return BODY_CLIENT_LEFT(typeof code === 'string' ? code : undefined);
}

/** The request's path without its query, which may carry tokens. */
function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0];
}
