import { Module } from '@nestjs/common';
import { LanarkyOpenAIModule } from '@lanarky/openai';
import { ChatController } from './chat.controller';
import { JsonController } from './json.controller';
import { demoOpenAIOptions } from './openai-options';
import { SassyChatFactory } from './sassy-chat.factory';

@Module({
  imports: [
    LanarkyOpenAIModule.forRootAsync({ isGlobal: true, useFactory: () => demoOpenAIOptions() }),
    LanarkyOpenAIModule.forFeature({ path: '/ws', factory: SassyChatFactory }),
  ],
  controllers: [ChatController, JsonController],
})
export class AppModule {}
