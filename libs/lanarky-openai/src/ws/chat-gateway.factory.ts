import { Inject, type Type } from '@nestjs/common';
import { ConnectedSocket, WebSocketGateway } from '@nestjs/websockets';
import { ChatResource } from '../decorators/chat-resource.decorator';
import type { ChatResourceFactory } from '../interfaces/chat-resource-factory.interface';
import { getHandshake } from './chat-socket';

/** A gateway class serving `factory` at `path`: what a user would write by hand, written once. */
export function createChatGateway(path: string, factory: Type<ChatResourceFactory>): Type<unknown> {
  @WebSocketGateway({ path })
  class ChatFactoryGateway {
    constructor(@Inject(factory) private readonly factory: ChatResourceFactory) {}

    @ChatResource()
    chat(@ConnectedSocket() client: object) {
      return this.factory.create({ handshake: getHandshake(client) });
    }
  }
  // Log lines name the handler: let them name the factory.
  Object.defineProperty(ChatFactoryGateway, 'name', { value: `${factory.name}Gateway` });
  return ChatFactoryGateway;
}
