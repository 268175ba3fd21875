import { BadRequestException, PayloadTooLargeException, type INestApplication } from '@nestjs/common';
import { isUtf8 } from 'node:buffer';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_BODY_LIMIT } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { BODY_NOT_UTF8, BODY_TOO_LARGE } from '../lanarky-openai.messages';
import { ChatBodyParserCheck } from './chat-body-parser.check';

/**
 * Installs a JSON body parser sized by the module's `bodyLimit` (Express's own stops at
 * 100 KiB), whose oversized bodies get Nest's plain 413 answer rather than a logged stack
 * trace, and which refuses bodies that are not valid UTF-8 (400). Call it in `main.ts`, before
 * `listen()`.
 *
 * @example
 * const app = await NestFactory.create<NestExpressApplication>(AppModule);
 * useChatBodyParser(app);
 */
export function useChatBodyParser(app: INestApplication): void {
  const { bodyLimit = DEFAULT_BODY_LIMIT } = app.get<LanarkyOpenAIModuleOptions>(LANARKY_OPENAI_OPTIONS, {
    strict: false,
  });
  app.get(ChatBodyParserCheck, { strict: false }).bodyParserInstalled();
  const parse = json({
    limit: bodyLimit,
    // Invalid bytes would otherwise turn silently into U+FFFD and reach the model.
    verify: (_request, _response, body) => {
      if (!isUtf8(body)) {
        throw new BadRequestException(BODY_NOT_UTF8);
      }
    },
  });
  // Named as Nest's own parser, so that Nest does not add its 100 KiB one behind it.
  app.use(function jsonParser(request: Request, response: Response, next: NextFunction) {
    parse(request, response, (error?: { type?: string }) =>
      next(error?.type === 'entity.too.large' ? new PayloadTooLargeException(BODY_TOO_LARGE(bodyLimit)) : error),
    );
  });
}
