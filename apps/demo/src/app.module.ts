import { Module } from '@nestjs/common';
import { LanarkyOpenAIModule } from '@lanarky/openai';
import { ChatController } from './chat.controller';
import { demoOpenAIOptions } from './openai-options';

@Module({
  imports: [LanarkyOpenAIModule.forRootAsync({ isGlobal: true, useFactory: () => demoOpenAIOptions() })],
  controllers: [ChatController],
})
export class AppModule {}
