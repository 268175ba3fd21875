import { Body, Controller, HttpCode, RequestMethod, Sse, ValidationPipe } from '@nestjs/common';
import OpenAI from 'openai';
import { map } from 'rxjs';
import { ChatCompletionResource, ChatRequestDto, InjectOpenAI, toChatEvents, toSseEvents } from '@lanarky/openai';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import { chat, completionText, userSays } from './support/sse';
import { startChatApp, type ChatApp } from './support/chat-app';

/** The README's "from scratch" endpoint, plus one built on the transport-neutral operator. */
@Controller()
class CustomController {
  constructor(@InjectOpenAI() private readonly openai: OpenAI) {}

  @Sse('custom', { method: RequestMethod.POST })
  @HttpCode(200)
  custom(@Body(new ValidationPipe({ whitelist: true })) body: ChatRequestDto) {
    const resource = new ChatCompletionResource({ client: this.openai, stream: true, temperature: 0 });
    return resource.stream(body.messages).pipe(toSseEvents({ keepAliveInterval: 15_000 }));
  }

  @Sse('neutral', { method: RequestMethod.POST })
  @HttpCode(200)
  neutral(@Body(new ValidationPipe({ whitelist: true })) body: ChatRequestDto) {
    const resource = new ChatCompletionResource({ client: this.openai, stream: true });
    return resource.stream(body.messages).pipe(
      toChatEvents(),
      map(({ event, data }) => ({ type: event, data })),
    );
  }
}

describe('hand-written endpoints on the exported operators', () => {
  let upstream: MockOpenAIServer;
  let server: ChatApp;

  beforeAll(async () => {
    upstream = await MockOpenAIServer.start({ chunks: ['built', ' by', ' hand'] });
    server = await startChatApp(upstream, { controllers: [CustomController] });
  });
  afterEach(() => upstream.reset());
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });

  it.each(['custom', 'neutral'])('/%s streams the protocol events', async (path) => {
    const response = await chat(`${server.url}/${path}`, userSays('hi'));

    expect(response.events.map((event) => event.event)).toEqual(['completion', 'completion', 'completion']);
    expect(completionText(response)).toBe('built by hand');
    expect(upstream.requests[0].body.temperature).toBe(path === 'custom' ? 0 : undefined);
  });

  it.each(['custom', 'neutral'])('/%s maps upstream errors to the error event', async (path) => {
    upstream.setReply({ status: 429 });

    const response = await chat(`${server.url}/${path}`, userSays('hi'));

    expect(response.events).toHaveLength(1);
    expect(response.events[0].event).toBe('error');
    expect(JSON.parse(response.events[0].data)).toEqual({ status_code: 429, detail: 'Rate limited by upstream' });
  });

  it('ChatRequestDto with ValidationPipe rejects a system message before upstream', async () => {
    const response = await chat(`${server.url}/custom`, { messages: [{ role: 'system', content: 'x' }] });

    expect(response.status).toBe(400);
    expect(response.json.message).toEqual(['messages.0.role must be one of the following values: user, assistant']);
    expect(upstream.requests).toHaveLength(0);
  });
});
