import { Controller, DefaultValuePipe, ParseBoolPipe, Query } from '@nestjs/common';
import { ChatCompletionResource, ChatResource } from '@lanarky/openai';
import { systemPrompt } from './persona';

/** The getting-started example of Lanarky, the Nest way; `system` lets the chat page pick a persona. */
@Controller()
export class ChatController {
  @ChatResource('chat')
  chat(
    @Query('stream', new DefaultValuePipe(true), ParseBoolPipe) stream: boolean,
    @Query('system') system?: string,
  ): ChatCompletionResource {
    return new ChatCompletionResource({ stream, system: systemPrompt(system) });
  }
}
