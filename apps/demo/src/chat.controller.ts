import { Controller, DefaultValuePipe, ParseBoolPipe, Query } from '@nestjs/common';
import { ChatCompletionResource, ChatResource } from '@lanarky/openai';
import { systemPrompt } from './persona';

/**
 * The getting-started example of Lanarky, the Nest way, served in Lanarky's protocol and in the
 * AI SDK's; `system` lets the chat page pick a persona.
 */
@Controller()
export class ChatController {
  @ChatResource('chat')
  chat(
    @Query('stream', new DefaultValuePipe(true), ParseBoolPipe) stream: boolean,
    @Query('system') system?: string,
  ): ChatCompletionResource {
    return new ChatCompletionResource({ stream, system: systemPrompt(system) });
  }

  /** The same assistant for the AI SDK's `useChat` front ends: the UI message stream protocol. */
  @ChatResource('api/chat', { protocol: 'ai-sdk' })
  uiChat(@Query('system') system?: string): ChatCompletionResource {
    return this.chat(true, system);
  }
}
