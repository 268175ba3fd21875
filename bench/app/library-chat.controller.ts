import { Controller } from '@nestjs/common';
import { ChatCompletionResource, ChatResource } from '@lanarky/openai';
import { SYSTEM_PROMPT } from '../protocol';

/** The library's SSE route, as the README writes it: POST /chat. */
@Controller()
export class LibraryChatController {
  @ChatResource('chat')
  chat(): ChatCompletionResource {
    return new ChatCompletionResource({ stream: true, system: SYSTEM_PROMPT });
  }
}
