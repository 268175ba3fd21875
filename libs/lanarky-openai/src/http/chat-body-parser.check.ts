import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_BODY_LIMIT } from '../lanarky-openai.constants';
import { CHAT_BODY_PARSER_MISSING } from '../lanarky-openai.messages';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { ChatHandlersExplorer } from '../lifecycle/chat-handlers.explorer';

/** The limit of Express's default JSON parser (body-parser's `100kb`), which Nest installs. */
const EXPRESS_BODY_LIMIT = 100 * 1024;

/**
 * Warns at startup, once, when an Express app with chat routes never called
 * `useChatBodyParser(app)` while the module's `bodyLimit` is above Express's 100 KiB: bodies in
 * between would be refused before they reach the chat pipeline. Up to 100 KiB the limit holds
 * without it (the request validator checks `Content-Length`), so there is nothing to say.
 */
@Injectable()
export class ChatBodyParserCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('LanarkyOpenAI');
  private installed = false;

  constructor(
    private readonly explorer: ChatHandlersExplorer,
    @Inject(LANARKY_OPENAI_OPTIONS) private readonly options: LanarkyOpenAIModuleOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Notes that `useChatBodyParser(app)` sized the app's parser. */
  bodyParserInstalled(): void {
    this.installed = true;
  }

  onApplicationBootstrap(): void {
    const bodyLimit = this.options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    if (this.installed || bodyLimit <= EXPRESS_BODY_LIMIT || this.adapterHost?.httpAdapter?.getType() !== 'express') {
      return;
    }
    const routes = this.explorer.routes();
    if (routes.length > 0) {
      this.logger.warn(CHAT_BODY_PARSER_MISSING(routes, bodyLimit, EXPRESS_BODY_LIMIT));
    }
  }
}
