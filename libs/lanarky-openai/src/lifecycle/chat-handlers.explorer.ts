import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { GATEWAY_METADATA } from '@nestjs/websockets/constants';
import { CHAT_RESOURCE_METADATA, COMPLETION_METADATA } from '../lanarky-openai.constants';

/**
 * Finds the app's chat handlers, for the startup checks: the metatypes are known once the
 * modules are scanned, so it works from a constructor, before any instance is needed.
 */
@Injectable()
export class ChatHandlersExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  /** `Class.method` of every route that reads a chat request body: `@ChatResource()` and `@UseCompletion()`. */
  routes(): string[] {
    return this.handlers(this.discovery.getControllers(), [CHAT_RESOURCE_METADATA, COMPLETION_METADATA]);
  }

  /** `Class.method` of every `@ChatResource()` handler of a websocket gateway. */
  gateways(): string[] {
    const gateways = this.discovery.getProviders().filter(({ metatype }) => isClass(metatype) && Reflect.getMetadata(GATEWAY_METADATA, metatype));
    return this.handlers(gateways, [CHAT_RESOURCE_METADATA]);
  }

  private handlers(wrappers: InstanceWrapper[], keys: string[]): string[] {
    const found = new Set<string>();
    for (const { metatype } of wrappers) {
      if (!isClass(metatype)) {
        continue;
      }
      for (const method of this.scanner.getAllMethodNames(metatype.prototype)) {
        const handler = metatype.prototype[method];
        if (keys.some((key) => this.reflector.get(key, handler) !== undefined)) {
          found.add(`${metatype.name}.${method}`);
        }
      }
    }
    return [...found];
  }
}

function isClass(metatype: unknown): metatype is Type {
  return typeof metatype === 'function' && typeof metatype.prototype === 'object' && metatype.prototype !== null;
}
