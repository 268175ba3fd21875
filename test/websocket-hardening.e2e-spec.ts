import type { Socket } from 'node:net';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { startChatApp, type ChatApp } from './support/chat-app';
import { userSays } from './support/sse';
import { ChatSocket, turnText, type Frame } from './support/ws';
import { PersonaService } from './fixtures/chat.controller';
import { PirateGateway } from './fixtures/chat.gateway';

const END: Frame = { event: 'end', data: '' };
const CANCEL = { event: 'cancel' };

/** Sends frames in one TCP write, as a client that writes several frames at once. */
function sendInOneWrite(socket: ChatSocket, frames: unknown[]): void {
  const tcp = (socket.socket as unknown as { _socket: Socket })._socket;
  tcp.cork();
  frames.forEach((frame) => socket.send(frame));
  tcp.uncork();
}

describe('websocket hardening: one app, default adapter options', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    server = await startChatApp(upstream, { providers: [PersonaService, PirateGateway] });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
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
});
