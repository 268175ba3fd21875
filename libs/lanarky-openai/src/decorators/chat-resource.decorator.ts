import {
  Header,
  HttpCode,
  RequestMethod,
  SetMetadata,
  Sse,
  UseFilters,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { SubscribeMessage } from '@nestjs/websockets';
import { CHAT_RESOURCE_METADATA, DEFAULT_MAX_PENDING_DATA } from '../lanarky-openai.constants';
import { UI_MESSAGE_STREAM_HEADER } from '../ai-sdk/ui-message-stream';
import { ChatResourceInterceptor } from '../interceptors/chat-resource.interceptor';
import { ApiChatResource } from '../openapi/openapi.decorators';
import { CHAT_EVENT } from '../ws/chat-frames';
import { ChatWsExceptionFilter } from '../ws/chat-ws-exception.filter';

/** Options of {@link ChatResource}. */
export interface ChatResourceOptions {
  /** Overrides the module's `keepAliveInterval` for this endpoint (milliseconds, 0 turns it off). */
  keepAliveInterval?: number;
  /**
   * Characters of events that may wait for a client that does not read; past it the connection is
   * dropped and the upstream aborted (Nest's `@Sse()` option; default 1 Mi characters).
   */
  maxPendingDataLength?: number;
  /**
   * The wire protocol: `lanarky` (default, PROTOCOL.md) or `ai-sdk`, the AI SDK's UI message
   * stream v1 that `useChat` front ends speak (UI messages in, `text-delta`s and `finish` out).
   * Applies to HTTP routes; gateways always speak the Lanarky frames.
   */
  protocol?: 'lanarky' | 'ai-sdk';
}

/**
 * Serves the decorated factory as a chat endpoint, per Lanarky's wire protocol. On a controller,
 * `POST path` answers `text/event-stream` with the completions of the resource the method
 * returns; on a `@WebSocketGateway()`, every chat turn of a socket streams them as frames (the
 * gateway's own `path` applies there, and `path` is ignored). Guards, pipes, interceptors and
 * parameter decorators work on the method as on any route or message handler.
 *
 * @example
 * \@Controller()
 * export class ChatController {
 *   \@ChatResource('chat')
 *   chat(\@Query('stream', new ParseLenientBoolPipe({ default: true })) stream: boolean) {
 *     return new ChatCompletionResource({ stream, system: 'You are a sassy assistant' });
 *   }
 * }
 */
export function ChatResource(path?: string, options: ChatResourceOptions = {}): MethodDecorator {
  return applyDecorators(
    Sse(path, { method: RequestMethod.POST, maxPendingDataLength: options.maxPendingDataLength ?? DEFAULT_MAX_PENDING_DATA }),
    HttpCode(200),
    SubscribeMessage(CHAT_EVENT),
    SetMetadata(CHAT_RESOURCE_METADATA, options),
    UseInterceptors(ChatResourceInterceptor),
    UseFilters(ChatWsExceptionFilter),
    ApiChatResource(),
    ...(options.protocol === 'ai-sdk' ? [Header(UI_MESSAGE_STREAM_HEADER, 'v1')] : []),
  );
}
