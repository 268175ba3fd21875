import { LanarkyWsAdapter, useChatBodyParser } from '@lanarky/openai';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { dirname, join } from 'node:path';

/** Where the chat page lives: beside this file, in the sources and in the build alike. */
export const PUBLIC_DIR = join(__dirname, 'public');

/** Everything main.ts does to the app before it listens; tests boot the demo the same way. */
export function setupDemo(app: NestExpressApplication): void {
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app));
  app.useStaticAssets(PUBLIC_DIR);
  // The page parses SSE with the same parser as the library's StreamingClient, as an ES module.
  app.useStaticAssets(dirname(require.resolve('eventsource-parser')), { prefix: '/vendor/eventsource-parser/' });
  // SIGTERM closes the app gracefully (streams get the module's grace period), then exits 0.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  // Swagger UI at /docs, the OpenAPI document at /docs-json, as FastAPI gave Lanarky users.
  const config = new DocumentBuilder()
    .setTitle('Lanarky for NestJS: demo')
    .setDescription('Chat completions streamed as server-sent events (POST /chat), and injected into ordinary endpoints (POST /json). The same factory serves websockets at ws://<host>/ws.')
    .setVersion('0.1.0')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config));
}
