import { MockOpenAIServer } from '@lanarky/openai/testing';
import { postChat, userSays } from './support/sse';
import { startChatApp, type ChatApp } from './support/chat-app';
import { ChatFixtureController, PersonaService, TokenGuard } from './fixtures/chat.controller';

/** Active timers of this process: the pipeline must leave none behind. */
const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;

describe('client disconnect', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(
      upstream,
      { controllers: [ChatFixtureController], providers: [PersonaService, TokenGuard] },
      { keepAliveInterval: 1000 },
    );
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  /** Starts a slow stream, reads its first event, then hangs up; returns when it hung up. */
  async function hangUpAfterFirstEvent(): Promise<number> {
    const client = new AbortController();
    const response = await postChat(`${server.url}/chat`, userSays('talk slowly'), { signal: client.signal });
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(response.status).toBe(200);
    if (!first.includes('event: completion')) {
      // The first read may hold only the blank line that opens the stream.
      await reader.read();
    }
    const hungUpAt = performance.now();
    client.abort();
    await reader.cancel().catch(() => undefined);
    return hungUpAt;
  }

  it('aborts the upstream request within 100 ms of the client leaving', async () => {
    upstream.setReply({ chunkCount: 200, delayMs: 20 });
    // The first abort in a jest module registry is not the one measured: Node reads the abort
    // reason's stack as it destroys the upstream body, and jest's source-map stack formatter
    // then loads and parses maps, tens of ms that a process outside jest does not pay (1-5 ms
    // from unsubscribe to the upstream's close there).
    const warmedUp = new Promise((resolve) => upstream.once('abort', resolve));
    await hangUpAfterFirstEvent();
    await warmedUp;
    const aborted = new Promise<number>((resolve) => upstream.once('abort', () => resolve(performance.now())));

    const hungUpAt = await hangUpAfterFirstEvent();
    const abortedAt = await aborted;

    expect(abortedAt - hungUpAt).toBeLessThan(100);
    expect(upstream.abortedRequests).toBe(2);
  });

  it('leaves no upstream socket, keep-alive timer or subscription behind', async () => {
    upstream.setReply({ chunkCount: 200, delayMs: 20 });
    const before = timers();

    await hangUpAfterFirstEvent();
    await upstream.waitFor(() => upstream.abortedRequests === 1 && upstream.openConnections === 0, 1000);
    // Other timers (sockets, the mock's) come and go: wait for the count to settle, bounded. The
    // upstream pool's clock (undici's one timer behind its connect and keep-alive timeouts) ticks
    // on for up to a second after its last timeout, and a kept-alive socket's for up to 4 s on a
    // loaded machine (seen on Node 22 in CI); the pipeline's own (the 1 s keep-alive ping, the
    // 5 min idle timeout) would never go, however long the wait.
    await upstream.waitFor(() => timers() <= before, 6000).catch(() => undefined);

    expect(upstream.openConnections).toBe(0);
    expect(timers()).toBeLessThanOrEqual(before);
  }, 15_000);

  it('aborts upstream when the client leaves before the first chunk', async () => {
    upstream.setReply({ chunks: ['late'], delayMs: 2000 });
    const client = new AbortController();

    const response = await postChat(`${server.url}/chat`, userSays('hi'), { signal: client.signal });
    await upstream.waitFor(() => upstream.requests.length === 1, 1000);
    client.abort();
    await response.body?.cancel().catch(() => undefined);

    await upstream.waitFor(() => upstream.abortedRequests === 1, 1000);
    expect(upstream.openConnections).toBe(0);
  });

  it('aborts a one-shot (stream=false) upstream call when the client leaves', async () => {
    upstream.setReply({ hang: true });
    const client = new AbortController();

    const pending = postChat(`${server.url}/chat?stream=false`, userSays('hi'), { signal: client.signal }).catch(
      () => undefined,
    );
    await upstream.waitFor(() => upstream.requests.length === 1, 1000);
    client.abort();
    await pending;

    await upstream.waitFor(() => upstream.abortedRequests === 1, 1000);
  });

  it('keeps serving other streams after one client leaves', async () => {
    upstream.setReply({ chunkCount: 200, delayMs: 20 });
    await hangUpAfterFirstEvent();
    upstream.setReply({ chunks: ['still', ' here'] });

    const response = await postChat(`${server.url}/chat`, userSays('hi'));

    expect(await response.text()).toContain('data: still');
  });
});
