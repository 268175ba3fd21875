import { Injectable, Logger, type OnApplicationBootstrap, type WebSocketAdapter } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { LANARKY_WS_ADAPTER } from '../lanarky-openai.constants';
import { CHAT_ADAPTER_MISSING, CHAT_ADAPTER_OTHER } from '../lanarky-openai.messages';
import { ChatHandlersExplorer } from '../lifecycle/chat-handlers.explorer';
import { webSocketAdapterConfig, type WebSocketAdapterConfig } from '../utils/application-config';

/**
 * Stands in for the websocket adapter of an app whose gateways have `@ChatResource()` handlers
 * while main.ts has installed none: when Nest creates the first gateway server, it fails the
 * app's start with what to write instead.
 */
class MissingChatAdapter implements WebSocketAdapter {
  constructor(private readonly gateways: string[]) {}

  create(): never {
    throw new Error(CHAT_ADAPTER_MISSING(this.gateways));
  }

  bindClientConnect(): void {}

  bindMessageHandlers(): void {}

  close(): void {}

  /** Nest disposes of the adapter when the app closes, whether or not it started. */
  dispose(): void {}
}

/**
 * Checks that `@ChatResource()` gateways are served by `LanarkyWsAdapter`. With no adapter
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
    // Nest loads socket.io, its default, before any hook and exits if it is missing: stand in until main.ts installs one.
    if (this.gateways.length > 0 && this.config && !this.config.getIoAdapter() && !isInstalled('@nestjs/platform-socket.io')) {
      this.config.setIoAdapter(new MissingChatAdapter(this.gateways));
    }
  }

  onApplicationBootstrap(): void {
    const adapter = this.config?.getIoAdapter();
    // No adapter, or the stand-in still: no gateway was served (an application context).
    if (this.gateways.length === 0 || !adapter || adapter instanceof MissingChatAdapter || LANARKY_WS_ADAPTER in adapter) {
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
