import { Controller } from '@nestjs/common';
import { ChatCompletionResource, ChatResource, type LanarkyOpenAIModuleOptions } from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { TEST_API_KEY, startChatApp } from './support/chat-app';
import { closedPort } from './support/network';
import { chat, userSays, type SseResponse } from './support/sse';

@Controller()
class ChatController {
  @ChatResource('chat')
  chat() {
    return new ChatCompletionResource({ stream: true });
  }
}

function errorEvent(response: SseResponse) {
  const errors = response.events.filter((event) => event.event === 'error');
  expect(errors).toHaveLength(1);
  return JSON.parse(errors[0].data);
}

describe('upstream failures in the log name the host and the cause, never the key', () => {
  let upstream: MockOpenAIServer;
  beforeAll(async () => (upstream = await MockOpenAIServer.start()));
  afterEach(() => upstream.reset());
  afterAll(() => upstream.close());

  async function failedLog(options: LanarkyOpenAIModuleOptions, expected: { status_code: number; detail: string }): Promise<string> {
    const server = await startChatApp(upstream, { controllers: [ChatController] }, options);
    try {
      const response = await chat(`${server.url}/chat`, userSays('hi'));
      expect(errorEvent(response)).toEqual(expected);
      const log = server.logger.text();
      expect(log).not.toContain(TEST_API_KEY);
      return log;
    } finally {
      await server.close();
    }
  }

  it('a refused connection: ECONNREFUSED and host:port, without the credentials or query of the URL', async () => {
    const port = await closedPort();

    const log = await failedLog(
      { baseURL: `http://lanarky:s3cret-pass@127.0.0.1:${port}/v1?api-version=s3cret-query` },
      { status_code: 502, detail: 'Upstream connection lost' },
    );

    expect(log).toContain(
      `ChatController.chat answered 502 Upstream connection lost (APIConnectionError: ECONNREFUSED, upstream 127.0.0.1:${port})`,
    );
    expect(log).not.toContain('s3cret');
  });

  it('an unknown host: ENOTFOUND and the host name', async () => {
    const log = await failedLog({ baseURL: 'http://lanarky-upstream.invalid/v1' }, { status_code: 502, detail: 'Upstream connection lost' });

    expect(log).toContain('ChatController.chat answered 502 Upstream connection lost (APIConnectionError: ENOTFOUND, upstream lanarky-upstream.invalid)');
  });

  it("an HTTP status: the status and the host that answered, not the upstream's words", async () => {
    upstream.setReply({ status: 401, errorMessage: `Incorrect API key provided: ${TEST_API_KEY}` });

    const log = await failedLog({}, { status_code: 502, detail: 'Upstream authentication failed' });

    expect(log).toContain(`ChatController.chat answered 502 Upstream authentication failed (AuthenticationError: HTTP 401 from ${new URL(upstream.url).host})`);
    expect(log).not.toContain('Incorrect API key');
  });
});
