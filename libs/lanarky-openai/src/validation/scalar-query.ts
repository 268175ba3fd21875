import { BadRequestException, type Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { PARAMETER, PARAMETER_NOT_SINGLE } from '../lanarky-openai.messages';

const SCALARS = new Set<unknown>([String, Number, Boolean]);

/** The scalar query parameters of each factory method, read once. */
const scalarNames = new WeakMap<Function, string[]>();

/**
 * Names of the `@Query('name')` parameters of `owner.handler` whose declared type is a string,
 * a number or a boolean. Parameters declared as arrays, objects or `unknown` are left alone.
 */
function scalarQueryNames(owner: Type, handler: Function): string[] {
  let names = scalarNames.get(handler);
  if (!names) {
    const args: Record<string, { index: number; data?: unknown }> =
      Reflect.getMetadata(ROUTE_ARGS_METADATA, owner, handler.name) ?? {};
    const types: unknown[] = Reflect.getMetadata('design:paramtypes', owner.prototype, handler.name) ?? [];
    names = Object.entries(args)
      .filter(([key, { index, data }]) => Number(key.split(':')[0]) === RouteParamtypes.QUERY && typeof data === 'string' && SCALARS.has(types[index]))
      .map(([, { data }]) => data as string);
    scalarNames.set(handler, names);
  }
  return names;
}

/**
 * Rejects with a 400 a request whose query repeats (`?persona=a&persona=b`, an array from
 * Express's parser) or nests (`?persona[x]=a`, an object from the extended parser) a parameter
 * the factory declares as a string, number or boolean: the factory would otherwise get an array
 * where it expects a string, and fail as a 500 after the stream opened.
 */
export function assertScalarQueries(owner: Type, handler: Function, query: unknown): void {
  for (const name of scalarQueryNames(owner, handler)) {
    const value = (query as Record<string, unknown> | undefined)?.[name];
    if (typeof value === 'object' && value !== null) {
      throw new BadRequestException(PARAMETER_NOT_SINGLE(PARAMETER('query', name)));
    }
  }
}
