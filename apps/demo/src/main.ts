import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LanarkyWsAdapter, useChatBodyParser } from '@lanarky/openai';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app));
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000));
  const url = (await app.getUrl()).replace(/\[::1?\]|127\.0\.0\.1/, 'localhost');
  new Logger('Demo').log(`Chat endpoint: POST ${url}/chat`);
  new Logger('Demo').log(`Chat socket: ${url.replace('http', 'ws')}/ws`);
}

void bootstrap();
