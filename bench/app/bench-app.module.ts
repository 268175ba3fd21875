import { Module, type DynamicModule } from '@nestjs/common';
import { LanarkyOpenAIModule } from '@lanarky/openai';
import OpenAI from 'openai';
import { BENCH_MODEL } from '../protocol';
import { BenchChatFactory } from './bench-chat.factory';
import { HAND_OPENAI, HandWrittenController } from './hand-written.controller';
import { LibraryChatController } from './library-chat.controller';

const API_KEY = 'sk-bench';

/**
 * Every server target in one app: the library's SSE route (POST /chat) and websocket route (/ws),
 * and the hand-written controller (POST /hand), all against the same upstream with the same client
 * settings: no retries, the SDK's default timeout and keep-alive.
 */
@Module({})
export class BenchAppModule {
  static forUpstream(baseURL: string): DynamicModule {
    return {
      module: BenchAppModule,
      imports: [
        LanarkyOpenAIModule.forRoot({ isGlobal: true, apiKey: API_KEY, baseURL, maxRetries: 0, defaultModel: BENCH_MODEL }),
        LanarkyOpenAIModule.forFeature({ path: '/ws', factory: BenchChatFactory }),
      ],
      controllers: [LibraryChatController, HandWrittenController],
      providers: [{ provide: HAND_OPENAI, useFactory: () => new OpenAI({ apiKey: API_KEY, baseURL, maxRetries: 0 }) }],
    };
  }
}
