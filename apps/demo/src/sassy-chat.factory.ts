import { Injectable } from '@nestjs/common';
import { ChatCompletionResource, type ChatFactoryContext, type ChatResourceFactory } from '@lanarky/openai';
import { personaPrompt } from './persona';

/** The seed's websocket factory, as a Nest provider; `?persona=` on the socket URL picks a persona. */
@Injectable()
export class SassyChatFactory implements ChatResourceFactory {
  create({ handshake }: ChatFactoryContext): ChatCompletionResource {
    const personas = new URL(handshake?.url ?? '/', 'ws://localhost').searchParams.getAll('persona');
    // A repeated `persona` is refused as on HTTP, not read as its first value.
    return new ChatCompletionResource({ stream: true, system: personaPrompt(personas.length > 1 ? personas : personas[0]) });
  }
}
