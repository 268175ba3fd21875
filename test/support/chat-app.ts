import { Logger, type INestApplication, type ModuleMetadata, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  LanarkyOpenAIModule,
  LanarkyWsAdapter,
  useChatBodyParser,
  type LanarkyOpenAIModuleOptions,
} from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';

/** The key every test app uses: tests check it never leaks. */
export const TEST_API_KEY = 'sk-test-4f0c2b9e-do-not-leak';

/** Collects log lines, so tests can assert what was (and was not) logged. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log = (message: unknown, ...rest: unknown[]) => this.push('log', message, rest);
  error = (message: unknown, ...rest: unknown[]) => this.push('error', message, rest);
  warn = (message: unknown, ...rest: unknown[]) => this.push('warn', message, rest);
  debug = (message: unknown, ...rest: unknown[]) => this.push('debug', message, rest);
  verbose = (message: unknown, ...rest: unknown[]) => this.push('verbose', message, rest);

  private push(level: string, message: unknown, rest: unknown[]) {
    const text = message instanceof Error ? `${message.message}\n${message.stack}` : String(message);
    this.lines.push(`${level} ${text} ${rest.map(String).join(' ')}`);
  }

  text(): string {
    return this.lines.join('\n');
  }
}

export interface ChatApp {
  app: INestApplication;
  url: string;
  logger: CapturingLogger;
  close(): Promise<void>;
}

/** Starts a real Nest app on 127.0.0.1 with the library configured against `upstream`, set up by `setup` (main.ts's steps). */
export async function startChatApp(
  upstream: MockOpenAIServer,
  metadata: ModuleMetadata,
  options: LanarkyOpenAIModuleOptions = {},
  setup: (app: INestApplication) => void = useLanarky,
): Promise<ChatApp> {
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [
      LanarkyOpenAIModule.forRoot({ isGlobal: true, apiKey: TEST_API_KEY, baseURL: upstream.url, maxRetries: 0, ...options }),
      ...(metadata.imports ?? []),
    ],
  }).compile();
  // Tests end with client sockets still kept alive: close them rather than wait them out.
  return listen(moduleRef.createNestApplication({ forceCloseConnections: true }), setup);
}

/** What main.ts does before listening: the library's body parser and websocket adapter. */
export function useLanarky(app: INestApplication): void {
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app));
}

/**
 * Listens on a free loopback port after `setup` (main.ts's steps), with a capturing logger: pass
 * the one given to `setLogger()` to keep what the app logged while its module compiled.
 */
export async function listen<T extends INestApplication>(
  app: T,
  setup: (app: T) => void = useLanarky,
  logger = new CapturingLogger(),
): Promise<ChatApp> {
  app.useLogger(logger);
  Logger.overrideLogger(logger);
  setup(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, logger, close: () => app.close() };
}
