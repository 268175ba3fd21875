/**
 * The server under soak: the demo's AppModule, set up exactly as apps/demo/src/main.ts does, on
 * 127.0.0.1 and a free port. Started by soak/run.ts with --expose-gc; it answers over the IPC
 * channel only (no admin route), counts unhandled rejections and uncaught exceptions, and
 * reports its heap after forced garbage collection.
 */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppModule } from '../apps/demo/src/app.module';
import { setupDemo } from '../apps/demo/src/setup';
import { serve, type ServerHealth } from './ipc';

const counters = { unhandledRejections: 0, uncaughtExceptions: 0, failures: [] as string[] };

function record(kind: 'unhandledRejections' | 'uncaughtExceptions', error: unknown) {
  counters[kind]++;
  if (counters.failures.length < 10) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    counters.failures.push(`${kind === 'unhandledRejections' ? 'unhandled rejection' : 'uncaught exception'}: ${text}`);
  }
  console.error(`[soak] ${kind}:`, error);
}

// Counted, not fatal: the soak reports them all instead of dying at the first.
process.on('unhandledRejection', (reason) => record('unhandledRejections', reason));
process.on('uncaughtException', (error) => record('uncaughtExceptions', error));

const gc = (globalThis as { gc?: () => void }).gc;

async function health(): Promise<ServerHealth> {
  if (!gc) {
    throw new Error('start the soak server with --expose-gc');
  }
  // Several rounds, with turns of the event loop between them, so finalizers and weak maps settle.
  for (let round = 0; round < 4; round++) {
    gc();
    await sleep(50);
  }
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) {
    resources[type] = (resources[type] ?? 0) + 1;
  }
  const { heapUsed, rss } = process.memoryUsage();
  const { user, system } = process.cpuUsage();
  const { active, idle } = performance.eventLoopUtilization();
  return { heapUsed, rss, cpuMs: Math.round((user + system) / 1000), loopActiveMs: Math.round(active), loopIdleMs: Math.round(idle), resources, ...counters, failures: [...counters.failures] };
}

async function main() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: ['log', 'warn', 'error'] });
  setupDemo(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');

  serve(async (message: { type: string }) => {
    switch (message.type) {
      case 'health':
        return { health: await health() };
      case 'close': {
        const started = Date.now();
        await app.close();
        // The IPC channel is the last thing holding the process; without it the process must exit on its own.
        setImmediate(() => process.disconnect?.());
        return { closedInMs: Date.now() - started };
      }
      default:
        throw new Error(`unknown request ${message.type}`);
    }
  });
  process.send?.({ type: 'ready', url });
}

main().catch((error) => {
  console.error('[soak] the server did not start:', error);
  process.exit(1);
});
