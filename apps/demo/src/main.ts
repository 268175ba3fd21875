import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { setupDemo } from './setup';

/** Where the demo listens unless HOST says otherwise: this machine only, since it spends the operator's API key. */
const LOOPBACK = '127.0.0.1';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  setupDemo(app);
  const host = process.env.HOST || LOOPBACK;
  await app.listen(Number(process.env.PORT ?? 3000), host);
  const url = (await app.getUrl()).replace(/\[::1?\]|127\.0\.0\.1/, 'localhost');
  const logger = new Logger('Demo');
  logger.log(
    host === LOOPBACK ? `Listening on ${LOOPBACK} only: set HOST=0.0.0.0 to accept connections from other machines` : `Listening on ${host}`,
  );
  logger.log(`Chat page: ${url}/`);
  logger.log(`Chat endpoint: POST ${url}/chat`);
  logger.log(`Chat socket: ${url.replace('http', 'ws')}/ws`);
}

void bootstrap();
