import WebSocket, { type RawData } from 'ws';

/** A server frame, parsed. */
export interface Frame {
  event: string;
  data: any;
}

/** A real `ws` client that collects the server's frames and reads them turn by turn. */
export class ChatSocket {
  readonly frames: Frame[] = [];
  private read = 0;
  private waiters: Array<() => void> = [];
  closeCode?: number;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: RawData) => {
      this.frames.push(JSON.parse(data.toString()));
      this.wake();
    });
    socket.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
  }

  /** Opens a socket to `url` (http:// or ws://), resolving once it is open. */
  static open(url: string): Promise<ChatSocket> {
    const socket = new WebSocket(url.replace(/^http/, 'ws'));
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new ChatSocket(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends an object as JSON text, or a string or buffer as is. */
  send(frame: unknown, options: { binary?: boolean } = {}): void {
    const payload = typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame);
    this.socket.send(payload, { binary: options.binary ?? false });
  }

  /** The frames of the next turn, up to and including its `end` (bounded in time). */
  async nextTurn(timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.frames.findIndex((frame, index) => index >= this.read && frame.event === 'end');
      if (end >= 0) {
        const turn = this.frames.slice(this.read, end + 1);
        this.read = end + 1;
        return turn;
      }
      if (this.closeCode !== undefined) {
        throw new Error(`socket closed (${this.closeCode}) before the turn ended`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no end frame within ${timeoutMs} ms; frames so far: ${JSON.stringify(this.frames.slice(this.read))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for `count` frames of the current turn (bounded in time). */
  async waitForFrames(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length - this.read < count) {
      if (Date.now() > deadline) {
        throw new Error(`fewer than ${count} frames within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the close code once the socket is closed. */
  closed(timeoutMs = 5000): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closeCode !== undefined) {
        return resolve(this.closeCode);
      }
      const timer = setTimeout(() => reject(new Error('socket still open')), timeoutMs);
      this.socket.once('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  /** Ends the connection without a closing handshake, as a vanished client does. */
  terminate(): void {
    this.socket.terminate();
  }

  private wake() {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }
}

/** The text of a turn's completion frames, joined. */
export function turnText(frames: Frame[]): string {
  return frames
    .filter((frame) => frame.event === 'completion')
    .map((frame) => frame.data)
    .join('');
}
