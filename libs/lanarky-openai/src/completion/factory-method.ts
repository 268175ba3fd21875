import type { ArgumentMetadata, ExecutionContext, PipeTransform, Type } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { CUSTOM_ROUTE_ARGS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { ModuleRef } from '@nestjs/core';
import { RouteParamsFactory } from '@nestjs/core/router/route-params-factory';
import { assertScalarQueries } from '../validation/scalar-query';

/** One parameter of a method, as Nest's parameter decorators describe it. */
interface RouteArg {
  index: number;
  data?: unknown;
  pipes?: Array<PipeTransform | Type<PipeTransform>>;
  factory?: (data: unknown, context: ExecutionContext) => unknown;
}

const PARAM_TYPES: Partial<Record<number, ArgumentMetadata['type']>> = {
  [RouteParamtypes.BODY]: 'body',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.PARAM]: 'param',
};

const routeParams = new RouteParamsFactory();

/**
 * Calls a factory method of a controller with its parameters resolved as Nest resolves a route
 * handler's: `@Query()`, `@Headers()`, `@Body()`... and custom parameter decorators, through their
 * pipes (pipe classes come from the module, as Nest registered them). Global pipes are not run.
 */
export async function callFactoryMethod(
  moduleRef: ModuleRef,
  context: ExecutionContext,
  method: (...args: unknown[]) => unknown,
): Promise<unknown> {
  const controller = context.getClass();
  const instance = moduleRef.get(controller, { strict: false });
  const args: Record<string, RouteArg> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, method.name) ?? {};
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', controller.prototype, method.name) ?? [];
  const http = context.switchToHttp();
  assertScalarQueries(controller, method, http.getRequest<{ query?: unknown }>().query);
  const values: unknown[] = [];
  for (const [key, { index, data, pipes = [], factory }] of Object.entries(args)) {
    const custom = key.includes(CUSTOM_ROUTE_ARGS_METADATA);
    const type = custom ? RouteParamtypes.REQUEST : Number(key.split(':')[0]);
    let value = custom
      ? factory?.(data, context)
      : routeParams.exchangeKeyForValue(type, data as string, { req: http.getRequest(), res: http.getResponse(), next: http.getNext() });
    const metadata: ArgumentMetadata = { type: custom ? 'custom' : (PARAM_TYPES[type] ?? 'custom'), data: data as string, metatype: types[index] as Type };
    for (const pipe of pipes) {
      value = await resolvePipe(moduleRef, pipe).transform(value, metadata);
    }
    values[index] = value;
  }
  return method.apply(instance, values);
}

function resolvePipe(moduleRef: ModuleRef, pipe: PipeTransform | Type<PipeTransform>): PipeTransform {
  if (typeof pipe !== 'function') {
    return pipe;
  }
  // Nest registered the pipe classes of every method's parameters with the module.
  return moduleRef.get(pipe, { strict: false });
}
