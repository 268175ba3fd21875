import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { LanarkyWsAdapter, useChatBodyParser, type LanarkyWsAdapterOptions } from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import type { INestApplication } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { startChatApp, TEST_API_KEY, type ChatApp } from './support/chat-app';
import { demoStarted, type StartedDemo } from './support/demo-process';
import { killGroup, spawnTracked } from './support/processes';
import { userSays } from './support/sse';
import { ChatSocket, turnText, type Frame } from './support/ws';
import { PersonaService } from './fixtures/chat.controller';
import { PirateGateway } from './fixtures/chat.gateway';

const MiB = 1024 * 1024;
const END: Frame = { event: 'end', data: '' };
const CANCEL = { event: 'cancel' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A client frame, FIN set, masked with a zero key (clients must mask; any key will do). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 0xffff) {
    throw new Error('frames over 64 KiB are not needed here');
  }
  const length = payload.length < 126 ? [0x80 | payload.length] : [0x80 | 126, payload.length >> 8, payload.length & 0xff];
  return Buffer.concat([Buffer.from([0x80 | opcode, ...length, 0, 0, 0, 0]), payload]);
}

/** 1 MiB of pings carrying the largest payload a control frame may have (125 bytes). */
const PINGS = (() => {
  const ping = clientFrame(0x9, Buffer.alloc(125, 'p'));
  return Buffer.concat(Array.from({ length: Math.floor(MiB / ping.length) }, () => ping));
})();

/**
 * Opens a websocket by hand on a bare TCP socket and, once the server said 101, never reads again:
 * what the server writes piles up in the kernel, then in the server.
 */
async function openNonReadingSocket(url: string, path: string): Promise<Socket> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  // Writes to a socket the server dropped fail with EPIPE or ECONNRESET: that is the test's signal, not a fault.
  socket.on('error', () => undefined);
  socket.write(
    [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  );
  const head = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no answer to the handshake: ${text}`)), 5000);
    const onData = (data: Buffer) => {
      text += data.toString('latin1');
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.pause();
        resolve(text);
      }
    };
    socket.on('data', onData);
  });
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

/** Writes `chunk` again and again, honouring backpressure, until `total` bytes, the socket's close or the deadline. */
async function flood(socket: Socket, chunk: Buffer, total: number, timeoutMs: number): Promise<{ closedAfterMs?: number }> {
  const started = performance.now();
  let closedAfterMs: number | undefined;
  socket.once('close', () => (closedAfterMs = performance.now() - started));
  const deadline = Date.now() + timeoutMs;
  let sent = 0;
  while (closedAfterMs === undefined && sent < total && Date.now() < deadline) {
    sent += chunk.length;
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          socket.off('drain', done).off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
        socket.once('drain', done).once('close', done);
      });
    }
  }
  return { closedAfterMs };
}

/** Resolves once `socket` closes, or with false after `timeoutMs`; reads what it holds so that the close can be seen. */
function tcpClosed(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed) {
    return Promise.resolve(true);
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => (clearTimeout(timer), resolve(true)));
    socket.resume();
  });
}

/** The resident set size of a process, from /proc, sampled every 20 ms while watched; `peak` is the largest seen. */
function watchRss(pid: number) {
  const read = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
  let peak = read();
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, read());
    } catch {
      // The process is gone: the test fails on its own account.
    }
  }, 20);
  return { read, peak: () => peak, stop: () => clearInterval(timer) };
}

/** The local addresses of the TCP sockets listening on `port`, from the kernel's tables (IPv6 ones in hex). */
function listeningAddresses(port: number): string[] {
  const LISTEN = '0A';
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter(([, local, , state]) => state === LISTEN && parseInt(local?.split(':')[1] ?? '', 16) === port)
      .map(([, local]) => {
        const [address] = local.split(':');
        // IPv4 addresses are written as one little-endian word.
        return address.length === 8 ? (address.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16)).join('.') : address;
      }),
  );
}

/** Opens a websocket sending `headers`: the socket once open, or the HTTP status its upgrade was refused with. */
function handshake(url: string, headers: Record<string, string> = {}): Promise<{ status: number; socket?: WebSocket }> {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('error', (error) => {
      const refused = /Unexpected server response: (\d+)/.exec(error.message);
      return refused ? resolve({ status: Number(refused[1]) }) : reject(error);
    });
  });
}

/** A websocket whose close code and reason are recorded from the start (the close may come with the handshake's answer). */
function openRecordingClose(url: string, options: WebSocket.ClientOptions = {}) {
  const socket = new WebSocket(url.replace(/^http/, 'ws'), options);
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return { socket, opened, closed };
}

/** Bounds a promise in time. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Sends frames in one TCP write, as a client that writes several frames at once. */
function sendInOneWrite(socket: ChatSocket, frames: unknown[]): void {
  const tcp = (socket.socket as unknown as { _socket: Socket })._socket;
  tcp.cork();
  frames.forEach((frame) => socket.send(frame));
  tcp.uncork();
}

/** What main.ts does, with the adapter given `options`. */
const withAdapter = (options: LanarkyWsAdapterOptions) => (app: INestApplication) => {
  useChatBodyParser(app);
  app.useWebSocketAdapter(new LanarkyWsAdapter(app, options));
};

/** The app still serves a fresh client a whole turn. */
async function expectServes(url: string, upstream: MockOpenAIServer): Promise<void> {
  upstream.setReply({ chunks: ['still', ' here'] });
  const next = await ChatSocket.open(url);
  next.send(userSays('hi'));
  expect(turnText(await next.nextTurn())).toBe('still here');
  next.close();
}

/** A gateway with no chat handler, served as WsAdapter serves it: it answers what it is sent. */
@WebSocketGateway({ path: '/echo' })
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return { event: 'echo', data };
  }
}

/** Log lines written since `from`, by level. */
function linesSince(app: ChatApp, from: number) {
  const lines = app.logger.lines.slice(from);
  return { all: lines, warn: lines.filter((line) => line.startsWith('warn ')), error: lines.filter((line) => line.startsWith('error ')) };
}

describe('websocket hardening: the demo in its own process', () => {
  const running = new Set<ChildProcess>();
  let upstream: MockOpenAIServer;
  let demo: StartedDemo & { pid: number };

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', OPENAI_API_KEY: TEST_API_KEY, OPENAI_BASE_URL: upstream.url, NO_COLOR: '1' };
    delete env.HOST;
    const { child } = spawnTracked(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'apps/demo/src/main.ts'],
      { cwd: `${__dirname}/..`, env },
      running,
    );
    demo = { ...(await demoStarted(child, 60_000)), pid: child.pid! };
  }, 70_000);
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await Promise.all([...running].map((child) => killGroup(child)));
    await upstream.close();
  });

  it('listens on 127.0.0.1 unless HOST is set, and says so at startup', () => {
    const port = Number(new URL(demo.url).port);

    expect(listeningAddresses(port)).toEqual(['127.0.0.1']);
    expect(demo.output()).toMatch(/Listening on 127\.0\.0\.1 only: set HOST=0\.0\.0\.0 to accept connections from other machines/);
  });

  it('drops a client that sends 150 MB of pings and never reads, aborting its upstream; the server stays within 50 MiB and serves on', async () => {
    upstream.setReply({ hang: true });
    // A turn in flight whose upstream says nothing, so no chat frame is sent: only the pongs pile up.
    const flooder = await openNonReadingSocket(demo.url, '/ws');
    flooder.write(clientFrame(0x1, Buffer.from(JSON.stringify(userSays('hi')))));
    await upstream.waitFor(() => upstream.requests.length === 1, 5000);
    const aborted = new Promise<void>((resolve) => upstream.once('abort', () => resolve()));
    // Let the turn's start settle before the baseline.
    await sleep(500);
    const rss = watchRss(demo.pid);
    const before = rss.read();

    const { closedAfterMs } = await flood(flooder, PINGS, 150 * 1000 * 1000, 60_000);
    const closed = closedAfterMs !== undefined || (await tcpClosed(flooder, 5000));
    rss.stop();
    const peak = Math.max(rss.peak(), rss.read());
    flooder.destroy();

    expect(closed).toBe(true);
    expect(peak - before).toBeLessThan(50 * MiB);
    await within(aborted, 5000, 'upstream abort');
    expect(demo.output()).toContain('A websocket client is not reading');
    expect(demo.output()).not.toMatch(/ERROR/);
    await expectServes(`${demo.url}/ws`, upstream);
  }, 90_000);
});

describe('websocket hardening: one app, default adapter options', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(upstream, { providers: [PersonaService, PirateGateway, EchoGateway] });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  describe('cross-site handshakes', () => {
    it.each([
      ['another site', 'http://evil.example'],
      ['another name for this host', 'http://localhost:PORT'],
      ['an opaque origin', 'null'],
    ])('refuses a page of %s with 403 at the upgrade and one WARN naming the origin', async (_case, template) => {
      const origin = template.replace('PORT', new URL(server.url).port);
      const from = server.logger.lines.length;

      const { status, socket } = await handshake(`${server.url}/pirate`, { Origin: origin });

      expect(status).toBe(403);
      expect(socket).toBeUndefined();
      const log = linesSince(server, from);
      expect(log.error).toEqual([]);
      expect(log.warn).toHaveLength(1);
      expect(log.warn[0]).toContain(`Refused a websocket handshake from origin ${origin}`);
      expect(upstream.requests).toHaveLength(0);
      await expectServes(`${server.url}/pirate`, upstream);
    });

    it("accepts a page of the server's own host, and clients that send no Origin", async () => {
      const { port } = new URL(server.url);
      const from = server.logger.lines.length;

      const own = await handshake(`${server.url}/pirate`, { Origin: `http://127.0.0.1:${port}` });
      const uppercase = await handshake(`${server.url}/pirate`, { Origin: `HTTP://127.0.0.1:${port}` });
      const noOrigin = await handshake(`${server.url}/pirate`);

      expect([own.status, uppercase.status, noOrigin.status]).toEqual([101, 101, 101]);
      [own, uppercase, noOrigin].forEach(({ socket }) => socket?.close());
      expect(linesSince(server, from).warn).toEqual([]);
    });
  });

  describe('a cancel right behind its turn', () => {
    it('ends the turn whose cancel came in the same write: only its end frame, nothing asked upstream, the socket serves on', async () => {
      upstream.setReply({ chunkCount: 50, delayMs: 5 });
      const socket = await ChatSocket.open(`${server.url}/pirate`);

      sendInOneWrite(socket, [userSays('talk a lot'), CANCEL]);
      const cancelled = await socket.nextTurn();

      expect(cancelled).toEqual([END]);
      expect(upstream.requests).toHaveLength(0);
      upstream.setReply({ chunks: ['after', ' cancel'] });
      socket.send(userSays('next'));
      expect(turnText(await socket.nextTurn())).toBe('after cancel');
      socket.close();
    });

    it('cancels one turn a cancel, the oldest not cancelled yet; turns queued behind it run', async () => {
      upstream.setReply({ chunks: ['ran'] });
      const socket = await ChatSocket.open(`${server.url}/pirate`);

      // The second cancel finds the first turn cancelled already: it cancels the second, not the third.
      sendInOneWrite(socket, [userSays('one'), CANCEL, userSays('two'), userSays('three'), CANCEL]);
      const turns = [await socket.nextTurn(), await socket.nextTurn(), await socket.nextTurn()];

      expect(turns).toEqual([[END], [END], [{ event: 'completion', data: 'ran' }, END]]);
      expect(upstream.requests.map((request) => request.body.messages.at(-1).content)).toEqual(['three']);
      socket.close();
    });
  });

  it("drops a client of another gateway that sends messages and never reads the replies; the gateway serves on", async () => {
    const from = server.logger.lines.length;
    const flooder = await openNonReadingSocket(server.url, '/echo');
    const echo = clientFrame(0x1, Buffer.from(JSON.stringify({ event: 'echo', data: 'e'.repeat(60_000) })));

    const { closedAfterMs } = await flood(flooder, Buffer.concat(Array.from({ length: 16 }, () => echo)), 64 * MiB, 20_000);
    const closed = closedAfterMs !== undefined || (await tcpClosed(flooder, 5000));
    flooder.destroy();

    expect(closed).toBe(true);
    expect(linesSince(server, from).warn.join('\n')).toContain('A websocket client is not reading');
    const reader = await ChatSocket.open(`${server.url}/echo`);
    reader.send({ event: 'echo', data: 'hi' });
    await reader.waitForFrames(1);
    expect(reader.frames).toEqual([{ event: 'echo', data: 'hi' }]);
    reader.close();
  });

  describe('client protocol mistakes: one WARN line, no stack, the socket closed with its code', () => {
    it.each([
      ['a frame over the payload limit', 1009, 'Max payload size exceeded', (socket: ChatSocket) => socket.send(userSays('x'.repeat(MiB + 1)))],
      ['a text frame that is not UTF-8', 1007, 'invalid UTF-8', (socket: ChatSocket) => socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
      ['an unmasked client frame', 1002, 'MASK must be set', (socket: ChatSocket) => socket.socket.send('{}', { mask: false })],
    ])('%s: %i', async (_case, code, cause, send) => {
      const socket = await ChatSocket.open(`${server.url}/pirate`);
      const from = server.logger.lines.length;

      send(socket);

      expect(await socket.closed()).toBe(code);
      // The WARN is written as the socket closes; give a late ERROR the chance to show.
      await sleep(50);
      const log = linesSince(server, from);
      expect(log.error).toEqual([]);
      expect(log.all.join('\n')).not.toMatch(/\n\s+at /);
      expect(log.warn).toHaveLength(1);
      expect(log.warn[0]).toContain(cause);
      expect(log.warn[0]).toContain(`closed it with ${code}`);
      expect(upstream.requests).toHaveLength(0);
      await expectServes(`${server.url}/pirate`, upstream);
    });
  });
});

describe('websocket hardening: adapter options', () => {
  let upstream: MockOpenAIServer;
  const apps: ChatApp[] = [];
  const start = async (options: LanarkyWsAdapterOptions) => {
    const app = await startChatApp(upstream, { providers: [PersonaService, PirateGateway] }, {}, withAdapter(options));
    apps.push(app);
    return app;
  };

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    upstream.reset();
  });
  afterAll(() => upstream.close());

  it('allowedOrigins as a list: its origins open a socket, others get 403', async () => {
    const server = await start({ allowedOrigins: ['https://chat.example.com', 'http://localhost:3000'] });

    const listed = await handshake(`${server.url}/pirate`, { Origin: 'https://chat.example.com' });
    const other = await handshake(`${server.url}/pirate`, { Origin: 'https://chat.example.org' });

    expect([listed.status, other.status]).toEqual([101, 403]);
    listed.socket?.close();
    await expectServes(`${server.url}/pirate`, upstream);
  });

  it('allowedOrigins as a predicate: it decides, given the origin and the upgrade request', async () => {
    const asked: Array<[string, string | undefined]> = [];
    const server = await start({
      allowedOrigins: (origin: string, request: IncomingMessage) => {
        asked.push([origin, request.url]);
        return origin.endsWith('.example.com');
      },
    });

    const allowed = await handshake(`${server.url}/pirate?room=1`, { Origin: 'https://a.example.com' });
    const refused = await handshake(`${server.url}/pirate?room=2`, { Origin: 'https://a.example.org' });

    expect([allowed.status, refused.status]).toEqual([101, 403]);
    expect(asked).toEqual([
      ['https://a.example.com', '/pirate?room=1'],
      ['https://a.example.org', '/pirate?room=2'],
    ]);
    allowed.socket?.close();
  });

  it('heartbeat: a client that answers no ping is terminated by the second ping; one that answers, and pings itself, stays', async () => {
    const server = await start({ heartbeatInterval: 200 });
    const silent = openRecordingClose(`${server.url}/pirate`, { autoPong: false });
    await silent.opened;
    const lively = await ChatSocket.open(`${server.url}/pirate`);
    const openedAt = performance.now();

    const { code } = await within(silent.closed, 2000, 'the silent client closed');
    const silentFor = performance.now() - openedAt;
    // Its own pings are answered, and do not count against it.
    for (let index = 0; index < 100; index++) {
      lively.socket.ping();
    }
    await sleep(700);

    expect(code).toBe(1006);
    expect(silentFor).toBeLessThan(600);
    expect(lively.closeCode).toBeUndefined();
    upstream.setReply({ chunks: ['alive'] });
    lively.send(userSays('still there?'));
    expect(turnText(await lively.nextTurn())).toBe('alive');
    lively.close();
  });

  it('maxSockets: one socket past the cap is closed with 1013 "try again later", with one WARN; a freed place is taken again', async () => {
    const server = await start({ maxSockets: 2, heartbeatInterval: 0 });
    const first = await ChatSocket.open(`${server.url}/pirate`);
    const second = await ChatSocket.open(`${server.url}/pirate`);
    const from = server.logger.lines.length;

    const third = openRecordingClose(`${server.url}/pirate`);
    const fourth = openRecordingClose(`${server.url}/pirate`);
    await Promise.all([third.opened, fourth.opened]);
    const closes = await within(Promise.all([third.closed, fourth.closed]), 2000, 'the sockets past the cap closed');

    expect(closes).toEqual([
      { code: 1013, reason: 'try again later' },
      { code: 1013, reason: 'try again later' },
    ]);
    const log = linesSince(server, from);
    expect(log.warn).toHaveLength(1);
    expect(log.warn[0]).toContain('2 websockets are open (maxSockets)');
    expect(first.closeCode).toBeUndefined();
    first.close();
    await first.closed();
    // The server hears of the close a moment after the client: retry, bounded.
    let freed: ChatSocket | undefined;
    for (let attempt = 0; attempt < 20 && !freed; attempt++) {
      const next = await ChatSocket.open(`${server.url}/pirate`);
      await sleep(100);
      freed = next.closeCode === undefined ? next : undefined;
    }
    upstream.setReply({ chunks: ['your', ' turn'] });
    freed!.send(userSays('hi'));
    expect(turnText(await freed!.nextTurn())).toBe('your turn');
    freed!.close();
    second.close();
  });
});
