import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ChatBodyParserCheck } from './http/chat-body-parser.check';
import { createOpenAIClient } from './http/openai-client.factory';
import { UpstreamFetch } from './http/upstream-fetch';
import type { ChatFeatureOptions } from './interfaces/chat-resource-factory.interface';
import { OPENAI_CLIENT } from './lanarky-openai.constants';
import { ConfigurableModuleClass, LANARKY_OPENAI_OPTIONS } from './lanarky-openai.module-definition';
import { ChatHandlersExplorer } from './lifecycle/chat-handlers.explorer';
import { ChatRuns } from './lifecycle/chat-runs.service';
import { ChatStreamTracker } from './lifecycle/chat-stream.tracker';
import { ChatRequestValidator } from './validation/chat-request.validator';
import { ChatAdapterCheck } from './ws/chat-adapter.check';
import { createChatGateway } from './ws/chat-gateway.factory';

/**
 * Configures the OpenAI client and limits behind every `@ChatResource()` endpoint.
 *
 * @example
 * \@Module({
 *   imports: [LanarkyOpenAIModule.forRoot({ isGlobal: true, defaultModel: 'gpt-4o-mini' })],
 *   controllers: [ChatController],
 * })
 * export class AppModule {}
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    UpstreamFetch,
    { provide: OPENAI_CLIENT, useFactory: createOpenAIClient, inject: [LANARKY_OPENAI_OPTIONS, UpstreamFetch] },
    ChatRequestValidator,
    ChatStreamTracker,
    ChatRuns,
    ChatHandlersExplorer,
    ChatAdapterCheck,
    ChatBodyParserCheck,
  ],
  exports: [OPENAI_CLIENT, LANARKY_OPENAI_OPTIONS, ChatRequestValidator, ChatStreamTracker, ChatRuns],
})
export class LanarkyOpenAIModule extends ConfigurableModuleClass {
  /**
   * Serves a factory provider over a websocket at `path`, with no gateway class to write.
   * The module's client must be in scope: `forRoot({ isGlobal: true })`.
   *
   * @example
   * LanarkyOpenAIModule.forFeature({ path: '/ws', factory: SassyChatFactory })
   */
  static forFeature({ path, factory, imports = [] }: ChatFeatureOptions): DynamicModule {
    return {
      module: LanarkyOpenAIFeatureModule,
      imports,
      providers: [factory, createChatGateway(path, factory)],
    };
  }
}

/** The module `forFeature()` returns: a factory and the gateway serving it. */
@Module({})
export class LanarkyOpenAIFeatureModule {}
