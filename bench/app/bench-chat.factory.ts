import { Injectable } from '@nestjs/common';
import { ChatCompletionResource, type ChatResourceFactory } from '@lanarky/openai';
import { SYSTEM_PROMPT } from '../protocol';

/** The library's websocket route, through `forFeature`: ws://…/ws. */
@Injectable()
export class BenchChatFactory implements ChatResourceFactory {
  create(): ChatCompletionResource {
    return new ChatCompletionResource({ stream: true, system: SYSTEM_PROMPT });
  }
}
