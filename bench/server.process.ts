/** The bench app's process: one Nest app with every server target, set up as apps/demo/src/setup.ts does. */
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { LanarkyWsAdapter, useChatBodyParser } from '@lanarky/openai';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';
import { BenchAppModule } from './app/bench-app.module';
import { ownStats, serveCommands } from './ipc';

async function main(): Promise<void> {
  const upstream = process.env.BENCH_UPSTREAM_URL;
  if (!upstream) throw new Error('BENCH_UPSTREAM_URL is not set');
  const app = await NestFactory.create<NestExpressApplication>(BenchAppModule.forUpstream(upstream), {
    logger: ['error', 'warn'],
  });
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  let profiler: Session | undefined;
  serveCommands(`http://127.0.0.1:${port}`, async (command) => {
    if (command.type === 'stats') return { stats: ownStats(command.gc) };
    if (command.type === 'profile' && command.action === 'start') {
      profiler = await startProfiler();
      return {};
    }
    if (command.type === 'profile' && command.action === 'stop' && profiler) {
      const { profile } = (await post(profiler, 'Profiler.stop')) as { profile: object };
      writeFileSync(command.file!, JSON.stringify(profile));
      profiler.disconnect();
      profiler = undefined;
      return {};
    }
    throw new Error(`the server does not do '${command.type}'`);
  });
}

/** The CPU profiler of `node --cpu-prof`, started once the app is warm, so that a profile holds only measured runs. */
async function startProfiler(): Promise<Session> {
  const session = new Session();
  session.connect();
  await post(session, 'Profiler.enable');
  await post(session, 'Profiler.setSamplingInterval', { interval: 250 });
  await post(session, 'Profiler.start');
  return session;
}

function post(session: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (error: Error | null, result?: unknown) => (error ? reject(error) : resolve(result))),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
