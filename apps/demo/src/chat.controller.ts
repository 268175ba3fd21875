import { Controller, DefaultValuePipe, ParseBoolPipe, Query } from '@nestjs/common';
import { ChatCompletionResource, ChatResource } from '@lanarky/openai';

/** The getting-started example of Lanarky, the Nest way. */
@Controller()
export class ChatController {
  @ChatResource('chat')
  chat(@Query('stream', new DefaultValuePipe(true), ParseBoolPipe) stream: boolean): ChatCompletionResource {
    return new ChatCompletionResource({ stream, system: 'You are a sassy assistant' });
  }
}
