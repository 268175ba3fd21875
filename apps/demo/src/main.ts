import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { setupDemo } from './setup';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  setupDemo(app);
  await app.listen(Number(process.env.PORT ?? 3000));
  const url = (await app.getUrl()).replace(/\[::1?\]|127\.0\.0\.1/, 'localhost');
  const logger = new Logger('Demo');
  logger.log(`Chat page: ${url}/`);
  logger.log(`Chat endpoint: POST ${url}/chat`);
  logger.log(`Chat socket: ${url.replace('http', 'ws')}/ws`);
}

void bootstrap();
