import { BadRequestException, Injectable, Optional, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { BOOL_EXPECTED, PARAMETER, PARAMETER_NOT_SINGLE, PARAMETER_REQUIRED } from '../lanarky-openai.messages';

/** Options of {@link ParseLenientBoolPipe}. */
export interface ParseLenientBoolPipeOptions {
  /** The value when the parameter is absent; without one (and without `optional`) absence is a 400. */
  default?: boolean;
  /** Passes `undefined` on when the parameter is absent and there is no `default`. */
  optional?: boolean;
}

// The spellings pydantic accepts for a bool, which is how Python Lanarky (FastAPI) reads `stream`.
const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
const FALSE = new Set(['false', '0', 'no', 'off', 'f', 'n']);

/**
 * Parses a boolean parameter as FastAPI does, so clients written for Python Lanarky keep working:
 * `true/false`, `1/0`, `yes/no`, `on/off` (and pydantic's `t/f`, `y/n`), in any case, so Python's
 * `requests` sending `params={"stream": True}` as `True` streams. Anything else, an empty value or
 * a repeated parameter (`?stream=true&stream=false`) is a 400 naming the parameter. Nest's
 * `ParseBoolPipe` accepts only `true` and `false`.
 *
 * @example
 * \@ChatResource('chat')
 * chat(\@Query('stream', new ParseLenientBoolPipe({ default: true })) stream: boolean) {
 *   return new ChatCompletionResource({ stream, system: 'You are a sassy assistant' });
 * }
 */
@Injectable()
export class ParseLenientBoolPipe implements PipeTransform<unknown, boolean | undefined> {
  // Optional, so that the class itself can be given to `@Query()` as Nest's own pipes can.
  constructor(@Optional() private readonly options: ParseLenientBoolPipeOptions = {}) {}

  transform(value: unknown, { type, data }: ArgumentMetadata): boolean | undefined {
    const parameter = PARAMETER(type, data);
    if (value === undefined || value === null) {
      if (this.options.default !== undefined || this.options.optional) {
        return this.options.default;
      }
      throw new BadRequestException(PARAMETER_REQUIRED(parameter));
    }
    if (typeof value === 'boolean') {
      return value; // a DefaultValuePipe before this one
    }
    // Express's query parser makes an array of a repeated parameter (an object of `a[b]=c` with the extended one).
    if (typeof value === 'object') {
      throw new BadRequestException(PARAMETER_NOT_SINGLE(parameter));
    }
    const spelling = String(value).toLowerCase();
    if (TRUE.has(spelling)) {
      return true;
    }
    if (FALSE.has(spelling)) {
      return false;
    }
    throw new BadRequestException(BOOL_EXPECTED(parameter));
  }
}
