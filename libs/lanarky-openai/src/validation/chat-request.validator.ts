import {
  BadRequestException,
  Inject,
  Injectable,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
  ValidationPipe,
  type Type,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { isJsonObject } from '../utils/is-json-object';
import { nestsDeeperThan } from '../utils/json-depth';
import { createChatRequestDto, type ChatRequest } from '../dto/chat-request.dto';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_BODY_LIMIT, DEFAULT_MAX_CONTENT_LENGTH, DEFAULT_MAX_MESSAGES } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import {
  BODY_NOT_AN_OBJECT,
  BODY_TOO_DEEP,
  BODY_TOO_LARGE,
  MESSAGE_NOT_AN_OBJECT,
  UNSUPPORTED_MEDIA_TYPE,
} from '../lanarky-openai.messages';

/** A chat body nests three levels (body, messages, message); anything far deeper is hostile. */
const MAX_DEPTH = 16;

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Checks a chat request against the protocol's rules and the module's limits, before any
 * upstream call. Throws Nest's HTTP exceptions, so errors read as any Nest validation error.
 */
@Injectable()
export class ChatRequestValidator {
  private readonly dto: Type<ChatRequest>;
  private readonly bodyLimit: number;
  private readonly pipe = new ValidationPipe({
    whitelist: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: true,
  });

  constructor(@Inject(LANARKY_OPENAI_OPTIONS) options: LanarkyOpenAIModuleOptions) {
    this.dto = createChatRequestDto({
      maxMessages: options.maxMessages ?? DEFAULT_MAX_MESSAGES,
      maxContentLength: options.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH,
    });
    this.bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  }

  /**
   * Checks an HTTP request: its content type, its size, then its parsed body, after `convert`
   * (say, from the AI SDK's UI messages) when given.
   */
  async validateRequest(
    request: { headers: IncomingHttpHeaders; body?: unknown },
    convert?: (body: unknown) => unknown,
  ): Promise<ChatRequest> {
    const contentType = request.headers['content-type'];
    if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) {
      throw new UnsupportedMediaTypeException(UNSUPPORTED_MEDIA_TYPE(contentType));
    }
    if (Number(request.headers['content-length']) > this.bodyLimit) {
      throw new PayloadTooLargeException(BODY_TOO_LARGE(this.bodyLimit));
    }
    return this.validate(convert ? convert(request.body) : request.body);
  }

  /** Checks a parsed body and returns it with unknown fields stripped. */
  async validate(body: unknown): Promise<ChatRequest> {
    if (!isJsonObject(body)) {
      throw new BadRequestException([BODY_NOT_AN_OBJECT]);
    }
    if (nestsDeeperThan(body, MAX_DEPTH)) {
      throw new BadRequestException([BODY_TOO_DEEP(MAX_DEPTH)]);
    }
    // class-validator's nesting would report a primitive message without naming its index.
    const { messages } = body;
    const stray = Array.isArray(messages) ? messages.findIndex((message) => !isJsonObject(message)) : -1;
    if (stray >= 0) {
      throw new BadRequestException([MESSAGE_NOT_AN_OBJECT(stray)]);
    }
    return this.pipe.transform(body, { type: 'body', metatype: this.dto }) as Promise<ChatRequest>;
  }
}
