import { Controller, Inject, Post } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import OpenAI from 'openai';
import {
  ChatCompletionResource,
  ChatResource,
  ChatRuns,
  Completion,
  UseCompletion,
  type ChatRunRecord,
} from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { startChatApp, type ChatApp } from './support/chat-app';
import { chat, completionText, postChat, userSays, type SseResponse } from './support/sse';
import { ChatSocket } from './support/ws';

jest.setTimeout(30_000);

/** Waits until `check` holds, polling every 20 ms for at most `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`still false after ${timeoutMs} ms: ${check.toString()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error event a failed stream ends with, parsed. */
function errorEvent(response: SseResponse): { status_code: number; detail: string } {
  const errors = response.events.filter((event) => event.event === 'error');
  expect(errors).toHaveLength(1);
  return JSON.parse(errors[0].data);
}

describe('an upstream error message that quotes the API key', () => {
  const MODULE_KEY = 'sk-module-5e2a71c9-quoted-back';
  const RESOURCE_KEY = 'sk-resource-b83f04d6-quoted-back';
  const OWN_CLIENT = 'OWN_CLIENT';
  const quoting = (key: string) => `bad request, key Bearer ${key} may not use this model`;
  const REDACTED = 'bad request, key Bearer [redacted] may not use this model';

  /** Each transport's factory, once with the module's client, once with a client of its own. */
  @Controller()
  class KeyEchoController {
    constructor(@Inject(OWN_CLIENT) private readonly own: OpenAI) {}

    @ChatResource('module/chat')
    moduleChat() {
      return new ChatCompletionResource({ stream: true });
    }

    @ChatResource('own/chat')
    ownChat() {
      return new ChatCompletionResource({ stream: true, client: this.own });
    }

    @ChatResource('module/ai', { protocol: 'ai-sdk' })
    moduleAi() {
      return new ChatCompletionResource({ stream: true });
    }

    @ChatResource('own/ai', { protocol: 'ai-sdk' })
    ownAi() {
      return new ChatCompletionResource({ stream: true, client: this.own });
    }

    moduleResource() {
      return new ChatCompletionResource({});
    }

    ownResource() {
      return new ChatCompletionResource({ client: this.own });
    }

    @Post('module/complete')
    @UseCompletion(KeyEchoController.prototype.moduleResource)
    moduleComplete(@Completion('text') text: string) {
      return { text };
    }

    @Post('own/complete')
    @UseCompletion(KeyEchoController.prototype.ownResource)
    ownComplete(@Completion('text') text: string) {
      return { text };
    }
  }

  @WebSocketGateway({ path: '/module/ws' })
  class ModuleKeyGateway {
    @ChatResource()
    chat() {
      return new ChatCompletionResource({ stream: true });
    }
  }

  @WebSocketGateway({ path: '/own/ws' })
  class OwnKeyGateway {
    constructor(@Inject(OWN_CLIENT) private readonly own: OpenAI) {}

    @ChatResource()
    chat() {
      return new ChatCompletionResource({ stream: true, client: this.own });
    }
  }

  let upstream: MockOpenAIServer;
  let server: ChatApp;
  const runs: ChatRunRecord[] = [];

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start();
    const own = { provide: OWN_CLIENT, useFactory: () => new OpenAI({ apiKey: RESOURCE_KEY, baseURL: upstream.url, maxRetries: 0 }) };
    server = await startChatApp(
      upstream,
      { controllers: [KeyEchoController], providers: [own, ModuleKeyGateway, OwnKeyGateway] },
      { apiKey: MODULE_KEY },
    );
    server.app.get(ChatRuns).finished$.subscribe((run) => runs.push(run));
  });
  afterEach(() => {
    upstream.reset();
    server.logger.lines.length = 0;
    runs.length = 0;
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  /** What each transport tells its client: the detail, and the whole answer as text. */
  const transports: Record<string, (prefix: string) => Promise<{ detail: string; raw: string }>> = {
    'the SSE error event': async (prefix) => {
      const response = await chat(`${server.url}/${prefix}/chat`, userSays('hi'));
      expect(errorEvent(response).status_code).toBe(400);
      return { detail: errorEvent(response).detail, raw: response.raw };
    },
    'the websocket error frame': async (prefix) => {
      const socket = await ChatSocket.open(`${server.url}/${prefix}/ws`);
      try {
        socket.send(userSays('hi'));
        const turn = await socket.nextTurn();
        const error = turn.find((frame) => frame.event === 'error');
        expect(error?.data.status_code).toBe(400);
        return { detail: error?.data.detail, raw: JSON.stringify(turn) };
      } finally {
        socket.close();
      }
    },
    "the AI SDK's error part": async (prefix) => {
      const response = await chat(`${server.url}/${prefix}/ai`, {
        messages: [{ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
      });
      const parts = response.events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data));
      const error = parts.find((part) => part.type === 'error');
      return { detail: error?.errorText, raw: response.raw };
    },
    "the @UseCompletion() endpoint's error body": async (prefix) => {
      const response = await postChat(`${server.url}/${prefix}/complete`, userSays('hi'));
      const raw = await response.text();
      expect(response.status).toBe(400);
      expect(JSON.parse(raw)).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      return { detail: JSON.parse(raw).message, raw };
    },
  };

  const cases = Object.keys(transports).flatMap((transport) => [
    [transport, "the module's key", 'module', MODULE_KEY],
    [transport, "a resource's own client's key", 'own', RESOURCE_KEY],
  ]);

  it.each(cases)('%s and the log line carry the message with %s redacted', async (transport, _which, prefix, key) => {
    upstream.setReply({ status: 400, errorMessage: quoting(key) });

    const { detail, raw } = await transports[transport](prefix);

    // The upstream was sent the key and quoted it back: the client and the log get the rest.
    expect(upstream.requests[0].headers.authorization).toBe(`Bearer ${key}`);
    expect(detail).toBe(REDACTED);
    expect(raw).not.toContain(key);
    await eventually(() => runs.length === 1);
    expect(runs[0].error).toEqual({ status_code: 400, detail: REDACTED });
    const log = server.logger.text();
    expect(log).toMatch(new RegExp(`^warn \\w+\\.\\w+ answered 400 ${escape(REDACTED)} \\(BadRequestError: HTTP 400 from 127\\.0\\.0\\.1:\\d+\\)`, 'm'));
    expect(log).not.toContain(key);

    upstream.setReply({ chunks: ['still', ' here'] });
    expect(completionText(await chat(`${server.url}/${prefix}/chat`, userSays('again')))).toBe('still here');
  });
});

/** `text` as a literal inside a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

