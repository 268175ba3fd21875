import { Test } from '@nestjs/testing';
import { AppModule } from '../../apps/demo/src/app.module';
import { listen, type ChatApp } from './chat-app';

/** The demo's AppModule, started the way main.ts starts it, with `env` in place while it boots. */
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
    return await listen(moduleRef.createNestApplication({ forceCloseConnections: true }));
  } finally {
    process.env = saved;
  }
}
