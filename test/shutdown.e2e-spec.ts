import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { chat, completionText, postChat, readSse, userSays } from './support/sse';
import { startChatApp } from './support/chat-app';
import { demoStarted } from './support/demo-process';
import { ChatSocket, turnText } from './support/ws';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';
import { PirateGateway } from './fixtures/chat.gateway';

describe('graceful shutdown', () => {
  it('lets short streams finish, ends the rest with 503 after the grace period, aborts their upstream, and stops accepting', async () => {
    const upstream = await MockOpenAIServer.start();
    const server = await startChatApp(
      upstream,
      { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard, PirateGateway] },
      { shutdownGracePeriod: 400 },
    );
    try {
      upstream.enqueueReply(
        { chunks: ['quick', ' one'], delayMs: 100 },
        { chunkCount: 200, delayMs: 20 },
        { chunkCount: 200, delayMs: 20 },
      );
      const short = postChat(`${server.url}/chat`, userSays('short')).then(readSse);
      await upstream.waitFor(() => upstream.requests.length === 1);
      const long = postChat(`${server.url}/chat`, userSays('long')).then(readSse);
      await upstream.waitFor(() => upstream.requests.length === 2);
      const socket = await ChatSocket.open(`${server.url}/pirate`);
      socket.send({ messages: [{ role: 'user', content: 'long over ws' }] });
      await socket.waitForFrames(1);

      const closing = server.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // A new connection (not one kept alive) is refused.
      const refused = await new Promise<boolean>((resolve) => {
        const probe = connect(Number(new URL(server.url).port), '127.0.0.1');
        probe.once('connect', () => (probe.destroy(), resolve(false)));
        probe.once('error', () => resolve(true));
      });
      const [quick, cut, frames] = await Promise.all([short, long, socket.nextTurn()]);
      await closing;

      expect(refused).toBe(true);
      expect(completionText(quick)).toBe('quick one');
      expect(quick.events.some((event) => event.event === 'error')).toBe(false);
      const error = cut.events.at(-1)!;
      expect(error.event).toBe('error');
      expect(JSON.parse(error.data)).toEqual({ status_code: 503, detail: 'Server shutting down' });
      expect(completionText(cut).length).toBeGreaterThan(0);
      expect(frames.slice(-2)).toEqual([
        { event: 'error', data: { status_code: 503, detail: 'Server shutting down' } },
        { event: 'end', data: '' },
      ]);
      expect(turnText(frames).length).toBeGreaterThan(0);
      await upstream.waitFor(() => upstream.abortedRequests === 2 && upstream.openConnections === 0, 2000);
    } finally {
      await upstream.close();
    }
  });

  it('the demo process lets a stream in flight finish on SIGTERM, then exits 0', async () => {
    const upstream = await MockOpenAIServer.start({ chunks: ['one', ' two', ' three', ' four'], delayMs: 150 });
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/demo/src/main.ts'],
      {
        cwd: `${__dirname}/..`,
        env: { ...process.env, PORT: '0', OPENAI_API_KEY: 'sk-shutdown', OPENAI_BASE_URL: upstream.url, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const { url } = await demoStarted(child, 30_000);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

      const stream = chat(`${url}/chat`, userSays('hi'));
      await upstream.waitFor(() => upstream.requests.length === 1);
      child.kill('SIGTERM');

      expect(completionText(await stream)).toBe('one two three four');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await upstream.close();
    }
  }, 60_000);
});
