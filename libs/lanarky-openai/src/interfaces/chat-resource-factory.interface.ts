import type { IncomingMessage } from 'node:http';
import type { ModuleMetadata, Type } from '@nestjs/common';
import type { OpenAIResource } from '../resources/openai.resource';

/** What a {@link ChatResourceFactory} learns of the turn it builds a resource for. */
export interface ChatFactoryContext {
  /** Over websockets: the HTTP upgrade request the socket was opened with (URL, query, headers). */
  handshake?: IncomingMessage;
  /** Over HTTP (`@UseCompletion()`): the request being answered. */
  request?: IncomingMessage;
}

/**
 * A provider that builds the resource of each chat turn or request: a factory as a Nest
 * provider, so it can inject anything Nest can.
 *
 * @example
 * \@Injectable()
 * export class SassyChatFactory implements ChatResourceFactory {
 *   create() {
 *     return new ChatCompletionResource({ stream: true, system: 'You are a sassy assistant' });
 *   }
 * }
 */
export interface ChatResourceFactory {
  create(context: ChatFactoryContext): OpenAIResource | Promise<OpenAIResource>;
}

/** Options of `LanarkyOpenAIModule.forFeature()`. */
export interface ChatFeatureOptions {
  /** Websocket path the factory is served at, on the HTTP server's port (for example `/ws`). */
  path: string;
  /** The factory provider. */
  factory: Type<ChatResourceFactory>;
  /** Modules the factory's own dependencies come from. */
  imports?: ModuleMetadata['imports'];
}
