import { BadRequestException, Headers, Query } from '@nestjs/common';
import { assertScalarQueries } from './scalar-query';

class Factories {
  chat(
    @Query('persona') _persona?: string,
    @Query('temperature') _temperature?: number,
    @Query('stream') _stream?: boolean,
    @Query('tags') _tags?: string[],
    @Query('filter') _filter?: object,
    @Headers('x-persona') _header?: string,
    @Query() _all?: Record<string, unknown>,
  ) {}
}

const check = (query: unknown) => () => assertScalarQueries(Factories, Factories.prototype.chat, query);

describe('assertScalarQueries', () => {
  it('lets single values and absent parameters through', () => {
    expect(check({ persona: 'pirate', temperature: '0.5', stream: 'true' })).not.toThrow();
    expect(check({})).not.toThrow();
    expect(check(undefined)).not.toThrow();
  });

  it.each(['persona', 'temperature', 'stream'])('rejects a repeated or nested %s (declared a scalar) with a 400 naming it', (name) => {
    expect(check({ [name]: ['a', 'b'] })).toThrow(new BadRequestException(`query parameter '${name}' must be a single value, given once`));
    expect(check({ [name]: { x: 'a' } })).toThrow(BadRequestException);
  });

  it('leaves parameters declared as arrays or objects, headers and the whole query alone', () => {
    expect(check({ tags: ['a', 'b'], filter: { x: '1' } })).not.toThrow();
  });
});
