import { Injectable } from '@nestjs/common';
import { ChatCompletionResource, type ChatResourceFactory } from '@lanarky/openai';

/** The seed's websocket factory, as a Nest provider. */
@Injectable()
export class SassyChatFactory implements ChatResourceFactory {
  create(): ChatCompletionResource {
    return new ChatCompletionResource({ stream: true, system: 'You are a sassy assistant' });
  }
}
