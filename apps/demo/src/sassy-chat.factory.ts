import { Injectable } from '@nestjs/common';
import { ChatCompletionResource, type ChatFactoryContext, type ChatResourceFactory } from '@lanarky/openai';
import { systemPrompt } from './persona';

/** The seed's websocket factory, as a Nest provider; `?system=` on the socket URL picks a persona. */
@Injectable()
export class SassyChatFactory implements ChatResourceFactory {
  create({ handshake }: ChatFactoryContext): ChatCompletionResource {
    const system = new URL(handshake?.url ?? '/', 'ws://localhost').searchParams.get('system');
    return new ChatCompletionResource({ stream: true, system: systemPrompt(system) });
  }
}
