import type { WebSocketAdapter } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/** The part of Nest's `ApplicationConfig` that holds the app's websocket adapter. */
export interface WebSocketAdapterConfig {
  getIoAdapter(): WebSocketAdapter | undefined;
  setIoAdapter(adapter: WebSocketAdapter): void;
}

/**
 * Where the app keeps its websocket adapter: Nest's `ApplicationConfig`, which it offers no
 * provider for (nestjs/nest#16992), read from the container behind a `ModuleRef`. Undefined if
 * a Nest version keeps it elsewhere; the checks that need it then stand down.
 */
export function webSocketAdapterConfig(moduleRef: ModuleRef): WebSocketAdapterConfig | undefined {
  const config = (moduleRef as unknown as { container?: { applicationConfig?: Partial<WebSocketAdapterConfig> } }).container
    ?.applicationConfig;
  return typeof config?.getIoAdapter === 'function' && typeof config.setIoAdapter === 'function'
    ? (config as WebSocketAdapterConfig)
    : undefined;
}
