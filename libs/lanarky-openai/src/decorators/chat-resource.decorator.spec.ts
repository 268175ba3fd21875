import 'reflect-metadata';
import {
  Header,
  Injectable,
  Query,
  RequestMethod,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
  SSE_METADATA,
  SSE_OPTIONS_METADATA,
} from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { WsException } from '@nestjs/websockets';
import { MESSAGE_MAPPING_METADATA, MESSAGE_METADATA } from '@nestjs/websockets/constants';
import { ChatResourceInterceptor } from '../interceptors/chat-resource.interceptor';
import { ChatWsExceptionFilter } from '../ws/chat-ws-exception.filter';
import { CHAT_RESOURCE_METADATA } from '../lanarky-openai.constants';
import { ChatResource } from './chat-resource.decorator';

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(_context: ExecutionContext) {
    return true;
  }
}

@Injectable()
class OtherInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

const RESULT = { resource: true };

class ChatController {
  @ChatResource('chat')
  plain() {
    return RESULT;
  }

  @ChatResource()
  noPath() {
    return RESULT;
  }

  @ChatResource('tuned', { keepAliveInterval: 5_000, maxPendingDataLength: 64 * 1024 })
  tuned() {
    return RESULT;
  }

  @UseGuards(AllowGuard)
  @UseInterceptors(OtherInterceptor)
  @ChatResource('outer')
  composedAbove() {
    return RESULT;
  }

  @ChatResource('inner')
  @UseInterceptors(OtherInterceptor)
  @UseGuards(AllowGuard)
  @Header('X-Custom', 'yes')
  composedBelow(@Query('stream') stream: string) {
    return { stream };
  }
}

const meta = (key: string, handler: (...args: any[]) => unknown) => Reflect.getMetadata(key, handler);
const proto = ChatController.prototype;

describe('@ChatResource()', () => {
  it('declares a POST route at the path', () => {
    expect(meta(PATH_METADATA, proto.plain)).toBe('chat');
    expect(meta(METHOD_METADATA, proto.plain)).toBe(RequestMethod.POST);
  });

  it('defaults the path to "/" like Nest\'s route decorators', () => {
    expect(meta(PATH_METADATA, proto.noPath)).toBe('/');
    expect(meta(METHOD_METADATA, proto.noPath)).toBe(RequestMethod.POST);
  });

  it('marks the route as server-sent events answered with 200', () => {
    expect(meta(SSE_METADATA, proto.plain)).toBe(true);
    expect(meta(HTTP_CODE_METADATA, proto.plain)).toBe(200);
  });

  it('binds ChatResourceInterceptor', () => {
    expect(meta(INTERCEPTORS_METADATA, proto.plain)).toEqual([ChatResourceInterceptor]);
  });

  it("subscribes the method to gateways' 'chat' message, so the same decorator serves websockets", () => {
    expect(meta(MESSAGE_MAPPING_METADATA, proto.plain)).toBe(true);
    expect(meta(MESSAGE_METADATA, proto.plain)).toBe('chat');
  });

  it('binds ChatWsExceptionFilter, which catches only WsException and so leaves HTTP errors alone', () => {
    expect(meta(EXCEPTION_FILTERS_METADATA, proto.plain)).toEqual([ChatWsExceptionFilter]);
    expect(Reflect.getMetadata('__filterCatchExceptions__', ChatWsExceptionFilter)).toEqual([WsException]);
  });

  it('writes its options under CHAT_RESOURCE_METADATA, read as the interceptor reads them', () => {
    const reflector = new Reflector();
    expect(reflector.get(CHAT_RESOURCE_METADATA, proto.plain)).toEqual({});
    expect(reflector.get(CHAT_RESOURCE_METADATA, proto.tuned)).toEqual({
      keepAliveInterval: 5_000,
      maxPendingDataLength: 64 * 1024,
    });
  });

  it("passes maxPendingDataLength to Nest's @Sse() options, 1 Mi characters by default", () => {
    expect(meta(SSE_OPTIONS_METADATA, proto.tuned)).toEqual({ maxPendingDataLength: 64 * 1024 });
    expect(meta(SSE_OPTIONS_METADATA, proto.plain)).toEqual({ maxPendingDataLength: 1024 * 1024 });
  });

  it('writes nothing on the class', () => {
    for (const key of [INTERCEPTORS_METADATA, CHAT_RESOURCE_METADATA, PATH_METADATA, SSE_METADATA, HTTP_CODE_METADATA]) {
      expect(Reflect.getMetadata(key, ChatController)).toBeUndefined();
    }
  });

  describe('composes with other method decorators', () => {
    it('applied below @UseGuards() and @UseInterceptors()', () => {
      expect(meta(GUARDS_METADATA, proto.composedAbove)).toEqual([AllowGuard]);
      expect(meta(INTERCEPTORS_METADATA, proto.composedAbove)).toEqual([ChatResourceInterceptor, OtherInterceptor]);
      expect(meta(PATH_METADATA, proto.composedAbove)).toBe('outer');
      expect(meta(SSE_METADATA, proto.composedAbove)).toBe(true);
    });

    it('applied above @UseGuards(), @UseInterceptors(), @Header() and a parameter decorator', () => {
      expect(meta(GUARDS_METADATA, proto.composedBelow)).toEqual([AllowGuard]);
      expect(meta(INTERCEPTORS_METADATA, proto.composedBelow)).toEqual([OtherInterceptor, ChatResourceInterceptor]);
      expect(meta(HEADERS_METADATA, proto.composedBelow)).toEqual([{ name: 'X-Custom', value: 'yes' }]);
      expect(meta(PATH_METADATA, proto.composedBelow)).toBe('inner');
      expect(meta(METHOD_METADATA, proto.composedBelow)).toBe(RequestMethod.POST);
      expect(meta(HTTP_CODE_METADATA, proto.composedBelow)).toBe(200);
      const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, ChatController, 'composedBelow');
      expect(Object.values(args)).toEqual([expect.objectContaining({ index: 0, data: 'stream' })]);
    });
  });

  describe('keeps the original method', () => {
    it('does not replace descriptor.value', () => {
      const original = function chat() {
        return RESULT;
      };
      const descriptor: PropertyDescriptor = { value: original, writable: true, enumerable: false, configurable: true };
      const returned = ChatResource('chat')(proto, 'manual', descriptor);
      expect(descriptor.value).toBe(original);
      // A decorator returning nothing, or the same descriptor, leaves the method in place.
      expect(returned === undefined || (returned as PropertyDescriptor).value === original).toBe(true);
      expect(meta(PATH_METADATA, original)).toBe('chat');
      expect(meta(INTERCEPTORS_METADATA, original)).toEqual([ChatResourceInterceptor]);
    });

    it('the decorated method still runs its own body', () => {
      const controller = new ChatController();
      expect(controller.plain()).toBe(RESULT);
      expect(controller.composedBelow('false')).toEqual({ stream: 'false' });
      expect(proto.plain.name).toBe('plain');
      expect(Object.getOwnPropertyDescriptor(proto, 'plain')?.value).toBe(proto.plain);
    });
  });
});
