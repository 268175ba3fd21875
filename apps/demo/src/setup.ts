import { LanarkyWsAdapter, useChatBodyParser } from '@lanarky/openai';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import helmet from 'helmet';
import { dirname, join } from 'node:path';

/** Where the chat page lives: beside this file, in the sources and in the build alike. */
export const PUBLIC_DIR = join(__dirname, 'public');

/**
 * The chat page's policy: its own scripts, styles and connections only (the websocket included:
 * 'self' covers ws: and wss: on the same host), never framed. No upgrade-insecure-requests: the
 * demo serves plain HTTP, where it would send the page's requests to an https:// that is not there.
 */
const PAGE_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'connect-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'frame-ancestors': ["'none'"],
  'upgrade-insecure-requests': null,
};

/** Swagger UI's page has an inline style block and style attributes; its scripts are files. */
const DOCS_POLICY = { ...PAGE_POLICY, 'style-src': ["'self'", "'unsafe-inline'"] };

/** Where Swagger UI lives: /docs, its assets under /docs/, the document at /docs-json. */
const DOCS_PATH = /^\/docs(?:[/-]|$)/;

/** Helmet's security headers on every response, with the page's policy or Swagger UI's. */
function securityHeaders() {
  const options = { xFrameOptions: { action: 'deny' as const }, referrerPolicy: { policy: 'no-referrer' as const } };
  const page = helmet({ ...options, contentSecurityPolicy: { directives: PAGE_POLICY } });
  const docs = helmet({ ...options, contentSecurityPolicy: { directives: DOCS_POLICY } });
  return (request: Request, response: Response, next: NextFunction) =>
    (DOCS_PATH.test(request.path) ? docs : page)(request, response, next);
}

/** Everything main.ts does to the app before it listens; tests boot the demo the same way. */
export function setupDemo(app: NestExpressApplication): void {
  // Express names itself in every answer otherwise; helmet would only remove the header again.
  app.disable('x-powered-by');
  // First, so that every answer carries them: the page, its assets, Swagger UI, the chat routes' errors.
  app.use(securityHeaders());
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
