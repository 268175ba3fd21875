import type { AddressInfo } from 'node:net';
import NodeWebSocket, { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { WebSocketClient, WebSocketClosedError, WebSocketSession, type WebSocketEvent } from './websocket.client';

interface Received {
  text: string;
  isBinary: boolean;
}

/** A real `ws` server on 127.0.0.1 that records frames and lets each test script the server side. */
class FrameServer {
  readonly received: Received[] = [];
  /** The server side of the latest connection. */
  peer!: WebSocket;
  /** Resolves with the close code and reason the server saw for the latest connection. */
  peerClosed!: Promise<{ code: number; reason: string }>;
  onConnection: (peer: WebSocket) => void = () => undefined;
  private arrivals: Array<() => void> = [];

  private constructor(private readonly wss: WebSocketServer) {
    wss.on('connection', (peer) => {
      this.peer = peer;
      this.peerClosed = new Promise((resolve) => peer.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
      peer.on('message', (data: RawData, isBinary) => {
        this.received.push({ text: data.toString(), isBinary });
        this.arrivals.splice(0).forEach((wake) => wake());
      });
      this.onConnection(peer);
    });
  }

  static async start(): Promise<FrameServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new FrameServer(wss);
  }

  get uri(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` client frames arrived (bounded in time). */
  async waitForFrames(count: number, timeoutMs = 2000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} frames within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.arrivals.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.received;
  }

  /** Sends frames and resolves once they were written to the socket. */
  async send(...frames: Array<string | Buffer>): Promise<void> {
    for (const frame of frames) {
      await new Promise<void>((resolve, reject) => this.peer.send(frame, { binary: Buffer.isBuffer(frame) }, (error) => (error ? reject(error) : resolve())));
    }
  }

  close(): Promise<void> {
    this.wss.clients.forEach((peer) => peer.terminate());
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

const frame = (event: string, data: unknown) => JSON.stringify({ event, data });
const END = frame('end', '');
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function collect(events: AsyncIterable<WebSocketEvent>): Promise<WebSocketEvent[]> {
  const all: WebSocketEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('WebSocketClient', () => {
  let server: FrameServer;
  let session: WebSocketSession<any> | undefined;

  beforeAll(async () => {
    server = await FrameServer.start();
  });
  afterEach(async () => {
    await session?.close();
    session = undefined;
    server.received.length = 0;
    server.onConnection = () => undefined;
  });
  afterAll(() => server.close());

  describe("'json' mode (the default)", () => {
    it('sends any value as a JSON text frame and parses the frames it receives', async () => {
      session = await new WebSocketClient({ uri: server.uri }).connect();

      session.send({ messages: [{ role: 'user', content: 'héllo' }] });
      session.send('just a string');
      await server.waitForFrames(2);
      await server.send(frame('completion', 'hi'), Buffer.from('[1,2]'));

      expect(server.received).toEqual([
        { text: '{"messages":[{"role":"user","content":"héllo"}]}', isBinary: false },
        { text: '"just a string"', isBinary: false },
      ]);
      expect(await session.receive()).toEqual({ event: 'completion', data: 'hi' });
      expect(await session.receive()).toEqual([1, 2]);
    });
  });

  describe("'text' mode", () => {
    it('sends strings as they are and receives every frame as a string', async () => {
      session = await new WebSocketClient({ uri: server.uri, mode: 'text' }).connect();

      session.send('{"messages": []}');
      session.send('not json at all');
      await server.waitForFrames(2);
      await server.send('{"event":"completion","data":"a"}', Buffer.from('bytes as text: é'));

      expect(server.received).toEqual([
        { text: '{"messages": []}', isBinary: false },
        { text: 'not json at all', isBinary: false },
      ]);
      expect(await session.receive()).toBe('{"event":"completion","data":"a"}');
      expect(await session.receive()).toBe('bytes as text: é');
    });

    it('refuses to send anything but a string', async () => {
      session = await new WebSocketClient({ uri: server.uri, mode: 'text' }).connect();

      expect(() => session!.send({ messages: [] })).toThrow(TypeError);
    });
  });

  describe("'bytes' mode", () => {
    it('sends bytes and strings as binary frames and receives every frame as a Uint8Array', async () => {
      session = await new WebSocketClient({ uri: server.uri, mode: 'bytes' }).connect();

      session.send(new TextEncoder().encode('raw bytes'));
      session.send('a string, as UTF-8: é');
      await server.waitForFrames(2);
      await server.send(Buffer.from([0, 255, 1]), 'text frame');

      expect(server.received).toEqual([
        { text: 'raw bytes', isBinary: true },
        { text: 'a string, as UTF-8: é', isBinary: true },
      ]);
      const first = await session.receive();
      const second = await session.receive();
      expect(first).toBeInstanceOf(Uint8Array);
      expect(Array.from(first)).toEqual([0, 255, 1]);
      expect(second).toBeInstanceOf(Uint8Array);
      expect(decode(second)).toBe('text frame');
    });
  });

  it('queues the frames that arrive before receive() is called, losing none', async () => {
    const frames = Array.from({ length: 20 }, (_, i) => frame('completion', `chunk ${i}`));
    const sent = new Promise<void>((resolve) => {
      server.onConnection = () => void server.send(...frames).then(resolve);
    });
    session = await new WebSocketClient({ uri: server.uri }).connect();
    await sent;
    // Give the frames time to reach the client before anything reads them.
    await new Promise((resolve) => setTimeout(resolve, 50));

    const received: unknown[] = [];
    for (let i = 0; i < frames.length; i++) received.push(await session.receive());

    expect(received).toEqual(frames.map((text) => JSON.parse(text)));
  });

  it.each(['json', 'text', 'bytes'] as const)(
    'streams the events of a turn in %s mode, stops at end without yielding it, and keeps later frames for the next turn',
    async (mode) => {
      session = await new WebSocketClient({ uri: server.uri, mode }).connect();
      await server.send(
        frame('completion', 'Hi'),
        Buffer.from(frame('completion', ' there')),
        frame('error', { status_code: 429, detail: 'Rate limited by upstream' }),
        END,
        frame('completion', 'next turn'),
        END,
      );

      const first = await collect(session.streamResponse());
      const second = await collect(session.streamResponse());

      expect(first).toEqual([
        { event: 'completion', data: 'Hi' },
        { event: 'completion', data: ' there' },
        { event: 'error', data: { status_code: 429, detail: 'Rate limited by upstream' } },
      ]);
      expect(second).toEqual([{ event: 'completion', data: 'next turn' }]);
    },
  );

  it('makes streamResponse throw on a frame that is not a protocol event', async () => {
    session = await new WebSocketClient({ uri: server.uri }).connect();
    await server.send('{"no":"event"}');

    await expect(collect(session.streamResponse())).rejects.toThrow('not a protocol event frame: {"no":"event"}');
  });

  it('rejects a pending receive() with WebSocketClosedError when the server closes the socket', async () => {
    session = await new WebSocketClient({ uri: server.uri }).connect();
    const pending = session.receive();

    server.peer.close(4000, 'bye');

    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebSocketClosedError);
    expect(error).toMatchObject({ code: 4000, reason: 'bye' });
    await expect(session.receive()).rejects.toBeInstanceOf(WebSocketClosedError);
  });

  it('hands out the frames queued before a close, then rejects', async () => {
    server.onConnection = (peer) => peer.send(frame('completion', 'last words'), () => peer.close(1000));
    session = await new WebSocketClient({ uri: server.uri }).connect();
    await session.closed;

    expect(await session.receive()).toEqual({ event: 'completion', data: 'last words' });
    await expect(session.receive()).rejects.toThrow('WebSocket closed (1000) before a frame arrived');
  });

  it('rejects a streamResponse in progress when the socket closes before end', async () => {
    session = await new WebSocketClient({ uri: server.uri }).connect();
    await server.send(frame('completion', 'half'));
    const events: WebSocketEvent[] = [];

    const streaming = (async () => {
      for await (const event of session!.streamResponse()) {
        events.push(event);
        server.peer.terminate();
      }
    })();

    await expect(streaming).rejects.toBeInstanceOf(WebSocketClosedError);
    expect(events).toEqual([{ event: 'completion', data: 'half' }]);
  });

  it('close(code, reason) sends them and resolves once the socket is closed', async () => {
    session = await new WebSocketClient({ uri: server.uri }).connect();

    await session.close(4001, 'done here');

    expect(await server.peerClosed).toEqual({ code: 4001, reason: 'done here' });
    await expect(session.receive()).rejects.toBeInstanceOf(WebSocketClosedError);
    await session.close();
  });

  it('closes the socket when an `await using` block ends', async () => {
    const client = new WebSocketClient({ uri: server.uri });
    {
      await using scoped = await client.connect();
      scoped.send({ hello: 'world' });
      await server.waitForFrames(1);
    }

    expect(await server.peerClosed).toEqual({ code: 1005, reason: '' });
  });

  describe('when the server refuses the upgrade', () => {
    let refusing: WebSocketServer;
    let uri: string;

    beforeEach(async () => {
      refusing = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, done) => done(false, 403) });
      await new Promise<void>((resolve) => refusing.once('listening', resolve));
      uri = `ws://127.0.0.1:${(refusing.address() as AddressInfo).port}/ws`;
    });
    afterEach(() => new Promise((resolve) => refusing.close(resolve)));

    it('rejects connect() with the status, from a WebSocket class that reports it (the ws package)', async () => {
      await expect(new WebSocketClient({ uri, WebSocket: NodeWebSocket }).connect()).rejects.toThrow(
        `WebSocket connection to ${uri} failed: Unexpected server response: 403`,
      );
    });

    it("rejects connect() naming the URI with the runtime's own WebSocket (Node 22+'s reports no status)", async () => {
      await expect(new WebSocketClient({ uri }).connect()).rejects.toThrow(`WebSocket connection to ${uri} failed`);
    });
  });

  it('rejects connect() when nothing listens', async () => {
    await expect(new WebSocketClient({ uri: 'ws://127.0.0.1:1/ws' }).connect()).rejects.toThrow(
      'WebSocket connection to ws://127.0.0.1:1/ws failed',
    );
  });

  it('uses the WebSocket class it was given', async () => {
    const { default: WS } = await import('ws');
    const created: string[] = [];
    class RecordingWebSocket extends WS {
      constructor(url: string) {
        super(url);
        created.push(url);
      }
    }

    session = await new WebSocketClient({ uri: server.uri, WebSocket: RecordingWebSocket }).connect();

    expect(created).toEqual([server.uri]);
  });
});
