import { applyDecorators, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { CHAT_ROLES } from '../dto/chat-request.dto';
import { DEFAULT_MAX_CONTENT_LENGTH, DEFAULT_MAX_MESSAGES } from '../lanarky-openai.constants';

/** `@nestjs/swagger` when the app installed it: an optional peer, the library works without it. */
function loadSwagger(): any {
  try {
    return require('@nestjs/swagger');
  } catch {
    return undefined;
  }
}

const swagger = loadSwagger();

/** The request body of every chat endpoint, in OpenAPI terms (with the default limits). */
export const CHAT_REQUEST_SCHEMA = {
  type: 'object',
  required: ['messages'],
  properties: {
    messages: {
      type: 'array',
      minItems: 1,
      maxItems: DEFAULT_MAX_MESSAGES,
      description: 'The conversation so far; the system prompt is the server’s.',
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: {
          role: { type: 'string', enum: [...CHAT_ROLES] },
          content: { type: 'string', maxLength: DEFAULT_MAX_CONTENT_LENGTH },
        },
      },
    },
  },
  example: { messages: [{ role: 'user', content: 'hi' }] },
};

const ERROR_BODY = {
  type: 'object',
  properties: {
    statusCode: { type: 'integer' },
    message: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    error: { type: 'string' },
  },
};

const EVENT_STREAM = [
  'Server-sent events: `event: completion` with a text chunk as raw UTF-8 `data` (several `data:` lines',
  'when the chunk has line breaks), zero or more; then at most one `event: error` whose `data` is JSON',
  '`{"status_code": <int>, "detail": "<text>"}` (429 rate limited, 502 upstream failure, 504 upstream',
  'timeout, ...). `: ping` comments keep idle streams open.',
].join(' ');

function rejections() {
  return [
    swagger.ApiResponse({ status: 400, description: 'Invalid body, messages or parameters', schema: ERROR_BODY }),
    swagger.ApiResponse({ status: 413, description: 'Body larger than the limit', schema: ERROR_BODY }),
    swagger.ApiResponse({ status: 415, description: 'Content type other than JSON', schema: ERROR_BODY }),
  ];
}

/** OpenAPI description of a `@ChatResource()` route; nothing without `@nestjs/swagger`. */
export function ApiChatResource(): MethodDecorator {
  if (!swagger) {
    return () => undefined;
  }
  return applyDecorators(
    swagger.ApiConsumes('application/json'),
    swagger.ApiProduces('text/event-stream'),
    swagger.ApiBody({ schema: CHAT_REQUEST_SCHEMA }),
    swagger.ApiResponse({
      status: 200,
      description: EVENT_STREAM,
      content: {
        'text/event-stream': {
          schema: { type: 'string' },
          example: 'event: completion\ndata: Hello\n\nevent: completion\ndata:  there\n\n',
        },
      },
    }),
    ...rejections(),
  );
}

/**
 * OpenAPI description of a `@UseCompletion()` route: the chat body, the factory method's own
 * query and header parameters (declare the factory above the handler, so its decorators ran),
 * and the errors the upstream may cause.
 */
export function ApiCompletion(factory: Function, owner: object): MethodDecorator {
  if (!swagger) {
    return () => undefined;
  }
  return applyDecorators(
    swagger.ApiConsumes('application/json'),
    swagger.ApiBody({ schema: CHAT_REQUEST_SCHEMA }),
    ...factoryParameters(factory, owner),
    ...rejections(),
    swagger.ApiResponse({ status: 429, description: 'Rate limited by upstream', schema: ERROR_BODY }),
    swagger.ApiResponse({ status: 502, description: 'Upstream failure, or a model answer that is not the JSON asked for', schema: ERROR_BODY }),
    swagger.ApiResponse({ status: 504, description: 'Upstream timeout', schema: ERROR_BODY }),
  );
}

/** `@Query()` and `@Headers()` parameters of a factory method of `owner`, as OpenAPI parameters. */
function factoryParameters(factory: Function, owner: object): MethodDecorator[] {
  if (!Object.getOwnPropertyNames(owner).some((name) => (owner as Record<string, unknown>)[name] === factory)) {
    return []; // a provider factory: its parameters are its own business
  }
  const args: Record<string, { index: number; data?: string }> =
    Reflect.getMetadata(ROUTE_ARGS_METADATA, owner.constructor, factory.name) ?? {};
  const types: Type[] = Reflect.getMetadata('design:paramtypes', owner, factory.name) ?? [];
  return Object.entries(args).flatMap(([key, { index, data }]) => {
    const type = Number(key.split(':')[0]);
    if (type === RouteParamtypes.QUERY && data) {
      return [swagger.ApiQuery({ name: data, required: false, type: types[index] ?? String })];
    }
    if (type === RouteParamtypes.HEADERS && data) {
      return [swagger.ApiHeader({ name: data, required: false })];
    }
    return [];
  });
}
