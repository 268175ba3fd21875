import { BadRequestException, type INestApplication } from '@nestjs/common';
import { isUtf8 } from 'node:buffer';
import { json, type NextFunction, type Request, type Response } from 'express';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_BODY_LIMIT } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { BODY_NOT_UTF8 } from '../lanarky-openai.messages';
import { bodyParserRefusal } from './body-parser-errors';
import { ChatBodyParserCheck } from './chat-body-parser.check';
import { refuseOversizedContinue } from './expect-continue';

/**
 * Installs a JSON body parser sized by the module's `bodyLimit` (Express's own stops at
 * 100 KiB), which refuses bodies that are not valid UTF-8 (400). The client's mistakes get
 * Nest's plain 4xx answers rather than a logged stack trace: too large (413, also at once to
 * `Expect: 100-continue`), a charset other than UTF-8 or an unknown `Content-Encoding` (415),
 * broken compressed data (400); a body that never arrives whole (aborted, broken chunks, too
 * slow) is one WARN line. Call it in `main.ts`, before `listen()`.
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
    parse(request, response, (error?: unknown) => next(bodyParserRefusal(error, request, bodyLimit)));
  });
  refuseOversizedContinue(app.getHttpServer(), bodyLimit);
}
