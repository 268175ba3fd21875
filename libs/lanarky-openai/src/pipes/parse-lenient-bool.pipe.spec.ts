import { BadRequestException, type ArgumentMetadata } from '@nestjs/common';
import { ParseLenientBoolPipe } from './parse-lenient-bool.pipe';

const STREAM: ArgumentMetadata = { type: 'query', data: 'stream', metatype: Boolean };

function rejection(pipe: ParseLenientBoolPipe, value: unknown, metadata = STREAM): string {
  try {
    pipe.transform(value, metadata);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).message;
  }
  throw new Error(`${JSON.stringify(value)} was accepted`);
}

describe('ParseLenientBoolPipe', () => {
  const pipe = new ParseLenientBoolPipe({ default: true });

  it.each(['true', 'True', 'TRUE', '1', 'yes', 'Yes', 'on', 'ON', 't', 'y'])('reads %s as true', (value) => {
    expect(pipe.transform(value, STREAM)).toBe(true);
  });

  it.each(['false', 'False', 'FALSE', '0', 'no', 'NO', 'off', 'Off', 'f', 'n'])('reads %s as false', (value) => {
    expect(pipe.transform(value, STREAM)).toBe(false);
  });

  it.each(['maybe', '', ' true', '2', 'truee', 'null'])('rejects %j, naming the parameter', (value) => {
    expect(rejection(pipe, value)).toBe(
      "query parameter 'stream' must be a boolean: true or false (also 1/0, yes/no, on/off, any case)",
    );
  });

  it.each([[['true', 'false']], [['true', 'true']], [{ a: 'true' }]])('rejects %j (a repeated or nested parameter)', (value) => {
    expect(rejection(pipe, value)).toBe("query parameter 'stream' must be a single value, given once");
  });

  it('gives the default when the parameter is absent', () => {
    expect(pipe.transform(undefined, STREAM)).toBe(true);
    expect(new ParseLenientBoolPipe({ default: false }).transform(undefined, STREAM)).toBe(false);
  });

  it('requires the parameter without a default, unless optional', () => {
    expect(rejection(new ParseLenientBoolPipe(), undefined)).toBe("query parameter 'stream' is required");
    expect(new ParseLenientBoolPipe({ optional: true }).transform(undefined, STREAM)).toBeUndefined();
  });

  it('passes a boolean through (a DefaultValuePipe ran first) and names a header by its name', () => {
    expect(new ParseLenientBoolPipe().transform(false, STREAM)).toBe(false);
    expect(rejection(pipe, 'nope', { type: 'custom', data: 'x-stream' })).toMatch(/^'x-stream' must be a boolean/);
  });
});
