import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Socket } from 'node:net';

/** A loopback port nothing listens on right now (taken, then closed again): to listen on, or to be refused by. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Records where every TCP connection this process opens goes, through Node's `net.client.socket`
 * channel: `address:port` once connected, the host name once looked up, `unconnected` before.
 */
export function watchOutgoingConnections(): { targets(): string[]; stop(): void } {
  const sockets: Array<{ target: string }> = [];
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    const record = { target: 'unconnected' };
    sockets.push(record);
    socket.once('lookup', (_error, _address, _family, host) => (record.target = host));
    socket.once('connect', () => (record.target = `${socket.remoteAddress}:${socket.remotePort}`));
  };
  subscribe('net.client.socket', onSocket);
  return {
    targets: () => sockets.map(({ target }) => target),
    stop: () => unsubscribe('net.client.socket', onSocket),
  };
}
