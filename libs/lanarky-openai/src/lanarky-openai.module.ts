import { Logger, Module, type DynamicModule } from '@nestjs/common';
import OpenAI from 'openai';
import { UpstreamFetch } from './http/upstream-fetch';
import type { ChatFeatureOptions } from './interfaces/chat-resource-factory.interface';
import type { LanarkyOpenAIModuleOptions } from './interfaces/lanarky-openai-options.interface';
import { OPENAI_CLIENT } from './lanarky-openai.constants';
import { ConfigurableModuleClass, LANARKY_OPENAI_OPTIONS } from './lanarky-openai.module-definition';
import { ChatRuns } from './lifecycle/chat-runs.service';
import { ChatStreamTracker } from './lifecycle/chat-stream.tracker';
import { ChatRequestValidator } from './validation/chat-request.validator';
import { createChatGateway } from './ws/chat-gateway.factory';

/** The module's one client: created once, when the module is, never per request. */
function createOpenAIClient(options: LanarkyOpenAIModuleOptions, upstream: UpstreamFetch): OpenAI {
  if (options.client) {
    return options.client;
  }
  const { apiKey, baseURL, organization, project, timeout, maxRetries, fetch = upstream.fetch } = options;
  // A local server (Ollama, vLLM, llama.cpp) needs no key, but the SDK insists on one.
  const keyless = !apiKey && !process.env.OPENAI_API_KEY && Boolean(baseURL ?? process.env.OPENAI_BASE_URL);
  return new OpenAI({
    apiKey: keyless ? 'no-key' : apiKey,
    baseURL,
    organization,
    project,
    timeout,
    maxRetries,
    fetch,
    logger: sdkLogger,
  });
}

/**
 * The SDK's own log lines, through Nest's Logger. Only their message: the SDK may add request
 * details or a raw chunk as further arguments, which stay out of the log.
 */
const sdkLogger = ((logger: Logger) => ({
  error: (message: string) => logger.error(message),
  warn: (message: string) => logger.warn(message),
  info: (message: string) => logger.log(message),
  debug: (message: string) => logger.debug(message),
}))(new Logger('OpenAI'));

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
  providers: [
    UpstreamFetch,
    { provide: OPENAI_CLIENT, useFactory: createOpenAIClient, inject: [LANARKY_OPENAI_OPTIONS, UpstreamFetch] },
    ChatRequestValidator,
    ChatStreamTracker,
    ChatRuns,
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
