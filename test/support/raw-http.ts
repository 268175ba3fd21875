import { connect, type Socket } from 'node:net';

/** What came back on a raw connection: the bytes as text, and whether the server closed it. */
export interface RawExchange {
  received: string;
  closedByServer: boolean;
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /** Acts on the socket once the bytes are written: reset it, half-close it, write more on cue. */
  after?: (socket: Socket, received: () => string) => void;
  /** Stops reading once this holds for what came so far (a response the server keeps alive). */
  until?: (received: string) => boolean;
  /** Stops reading after this many ms (default 3000). */
  timeoutMs?: number;
}

/**
 * Opens a TCP connection to the app at `url`, writes `bytes` (an HTTP request, whole or not),
 * and collects what the server sends until it closes, `until` holds, or the time is up.
 */
export function rawExchange(url: string, bytes: string | Buffer, { after, until, timeoutMs = 3000 }: RawExchangeOptions = {}): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let received = '';
    let settled = false;
    const finish = (closedByServer: boolean) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        resolve({ received, closedByServer });
      }
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (data: Buffer) => {
      received += data.toString('latin1');
      if (until?.(received)) {
        finish(false);
      }
    });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
    socket.write(bytes, () => after?.(socket, () => received));
  });
}

/** The head of a POST request to `path`, with `headers` as given (Host and Content-Type added unless given). */
export function requestHead(path: string, headers: Record<string, string | number>): string {
  const all: Record<string, string | number> = { Host: 'localhost', 'Content-Type': 'application/json', ...headers };
  return `POST ${path} HTTP/1.1\r\n${Object.entries(all)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
}
