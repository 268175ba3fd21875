import { Controller, Query } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { ChatCompletionResource, ChatResource, ParseLenientBoolPipe } from '@lanarky/openai';
import { DEFAULT_PERSONA, PERSONA_NAMES, personaPrompt } from './persona';

const PERSONA_QUERY = ApiQuery({ name: 'persona', required: false, enum: PERSONA_NAMES, description: `default: ${DEFAULT_PERSONA}` });

/**
 * The getting-started example of Lanarky, the Nest way, served in Lanarky's protocol and in the
 * AI SDK's; `persona` lets the chat page pick one of the server's system prompts.
 */
@Controller()
export class ChatController {
  @ChatResource('chat')
  @PERSONA_QUERY
  chat(
    @Query('stream', new ParseLenientBoolPipe({ default: true })) stream: boolean,
    @Query('persona') persona?: string,
  ): ChatCompletionResource {
    return new ChatCompletionResource({ stream, system: personaPrompt(persona) });
  }

  /** The same assistant for the AI SDK's `useChat` front ends: the UI message stream protocol. */
  @ChatResource('api/chat', { protocol: 'ai-sdk' })
  @PERSONA_QUERY
  uiChat(@Query('persona') persona?: string): ChatCompletionResource {
    return this.chat(true, persona);
  }
}
