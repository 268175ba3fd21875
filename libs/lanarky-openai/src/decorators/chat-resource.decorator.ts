import { HttpCode, RequestMethod, SetMetadata, Sse, UseInterceptors, applyDecorators } from '@nestjs/common';
import { CHAT_RESOURCE_METADATA } from '../lanarky-openai.constants';
import { ChatResourceInterceptor } from '../interceptors/chat-resource.interceptor';

/** Options of {@link ChatResource}. */
export interface ChatResourceOptions {
  /** Overrides the module's `keepAliveInterval` for this endpoint (milliseconds, 0 turns it off). */
  keepAliveInterval?: number;
  /** Characters of events that may wait for a client that does not read (Nest's `@Sse()` option). */
  maxPendingDataLength?: number;
}

/**
 * Serves the decorated factory as a chat endpoint: `POST path` answers `text/event-stream`
 * with the completions of the resource the method returns, per Lanarky's wire protocol.
 * Guards, pipes, interceptors and parameter decorators work on the method as on any route.
 *
 * @example
 * \@Controller()
 * export class ChatController {
 *   \@ChatResource('chat')
 *   chat(\@Query('stream', new DefaultValuePipe(true), ParseBoolPipe) stream: boolean) {
 *     return new ChatCompletionResource({ stream, system: 'You are a sassy assistant' });
 *   }
 * }
 */
export function ChatResource(path?: string, options: ChatResourceOptions = {}): MethodDecorator {
  return applyDecorators(
    Sse(path, { method: RequestMethod.POST, maxPendingDataLength: options.maxPendingDataLength }),
    HttpCode(200),
    SetMetadata(CHAT_RESOURCE_METADATA, options),
    UseInterceptors(ChatResourceInterceptor),
  );
}
