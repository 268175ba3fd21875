import type { Server, WebSocket } from 'ws';

/**
 * Pings every open client of `server` each `interval` ms and terminates those that sent no pong
 * since the previous ping, so that peers gone without a close (a dropped network, a sleeping
 * laptop) do not hold sockets. Stops when the server closes.
 */
export function startHeartbeat(server: Server, interval: number): void {
  const answered = new WeakSet<WebSocket>();
  server.on('connection', (client: WebSocket) => {
    answered.add(client);
    client.on('pong', () => answered.add(client));
  });
  const timer = setInterval(() => {
    for (const client of server.clients) {
      if (client.readyState !== client.OPEN) {
        continue;
      }
      if (!answered.has(client)) {
        client.terminate();
        continue;
      }
      answered.delete(client);
      client.ping();
    }
  }, interval);
  // The heartbeat alone must not keep the process alive.
  timer.unref();
  server.once('close', () => clearInterval(timer));
}
