import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AbstractWsAdapter } from '@nestjs/websockets';
import { CHAT_ADAPTER_MISSING, CHAT_ADAPTER_OTHER } from '../lanarky-openai.messages';
import { ChatHandlersExplorer } from '../lifecycle/chat-handlers.explorer';
import { webSocketAdapterConfig, type WebSocketAdapterConfig } from '../utils/application-config';
import { LanarkyWsAdapter } from './lanarky-ws.adapter';

/**
 * Stands in for the websocket adapter of an app whose gateways have `@ChatResource()` handlers
 * while main.ts has installed none: when Nest creates the first gateway server, it fails the
 * app's start with what to write instead.
 */
class MissingChatAdapter extends AbstractWsAdapter {
  constructor(private readonly gateways: string[]) {
    super();
  }

  override create(): never {
    throw new Error(CHAT_ADAPTER_MISSING(this.gateways));
  }

  bindMessageHandlers(): void {}
}

/**
 * Checks that `@ChatResource()` gateways are served by {@link LanarkyWsAdapter}. With no adapter
 * at all the app fails to start, saying how to install it; under another adapter (Nest's
 * `WsAdapter`, socket.io), which serves Nest's `{event, data}` frames but not the chat
 * protocol's, it starts with a warning.
 */
@Injectable()
export class ChatAdapterCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('LanarkyOpenAI');
  private readonly gateways: string[];
  private readonly config?: WebSocketAdapterConfig;

  constructor(explorer: ChatHandlersExplorer, moduleRef: ModuleRef) {
    this.gateways = explorer.gateways();
    this.config = webSocketAdapterConfig(moduleRef);
    // Nest loads its default adapter (socket.io) before any lifecycle hook, and exits the process
    // when that is not installed; main.ts replaces this stand-in when it installs an adapter.
    if (this.gateways.length > 0 && this.config && !this.config.getIoAdapter() && !isInstalled('@nestjs/platform-socket.io')) {
      this.config.setIoAdapter(new MissingChatAdapter(this.gateways));
    }
  }

  onApplicationBootstrap(): void {
    const adapter = this.config?.getIoAdapter();
    // No adapter, or the stand-in still: no gateway was served (an application context).
    if (this.gateways.length === 0 || !adapter || adapter instanceof MissingChatAdapter || adapter instanceof LanarkyWsAdapter) {
      return;
    }
    this.logger.warn(CHAT_ADAPTER_OTHER(this.gateways, adapter.constructor.name));
  }
}

function isInstalled(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
