import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from '../../apps/demo/src/app.module';
import { setupDemo } from '../../apps/demo/src/setup';
import { listen, type ChatApp } from './chat-app';

/** The demo's AppModule, set up as main.ts sets it up, with `env` in place while it boots. */
export async function startDemo(env: Record<string, string | undefined>): Promise<ChatApp> {
  const saved = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) {
      delete process.env[key];
    } else {
      process.env[key] = value;
    }
  }
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    return await listen(moduleRef.createNestApplication<NestExpressApplication>({ forceCloseConnections: true }), setupDemo);
  } finally {
    process.env = saved;
  }
}
