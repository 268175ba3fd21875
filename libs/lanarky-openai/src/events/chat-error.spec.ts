import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
} from '@nestjs/common';
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from 'openai';
import { MockOpenAIServer } from '../testing';
import {
  INTERNAL_SERVER_ERROR,
  UPSTREAM_AUTH_FAILED,
  UPSTREAM_CONNECTION_LOST,
  UPSTREAM_ERROR,
  UPSTREAM_RATE_LIMITED,
  UPSTREAM_REJECTED,
  UPSTREAM_TIMEOUT,
} from '../lanarky-openai.messages';
import { toChatError } from './chat-error';

/** Builds an upstream status error the way the SDK does from a response body. */
const upstream = (status: number, message: string) =>
  APIError.generate(status, { error: { message, type: 'x', param: null, code: null } }, undefined, new Headers());

describe('toChatError', () => {
  describe('upstream client faults keep their status and message', () => {
    it.each([
      [400, 'bad model'],
      [404, 'The model `gpt-nope` does not exist'],
      [422, 'context too long'],
    ])('%i from APIError.generate', (status, message) => {
      expect(toChatError(upstream(status, message))).toEqual({ status_code: status, detail: message });
    });

    it('with the secrets the request went out with redacted from the message, the rest kept', () => {
      const error = upstream(400, 'bad request, key Bearer sk-live-0123456789 is not allowed');

      expect(toChatError(error, { secrets: ['sk-live-0123456789'] })).toEqual({
        status_code: 400,
        detail: 'bad request, key Bearer [redacted] is not allowed',
      });
    });

    it('400 constructed directly as the SDK does', () => {
      const error = new BadRequestError(400, { message: 'bad model' }, undefined, new Headers());
      expect(toChatError(error)).toEqual({ status_code: 400, detail: 'bad model' });
    });

    it('404 and 422 constructed directly', () => {
      expect(toChatError(new NotFoundError(404, { message: 'no such model' }, undefined, new Headers()))).toEqual({
        status_code: 404,
        detail: 'no such model',
      });
      expect(
        toChatError(new UnprocessableEntityError(422, { message: 'too long' }, undefined, new Headers())),
      ).toEqual({ status_code: 422, detail: 'too long' });
    });

    it('a client fault without a message body falls back to a fixed text', () => {
      expect(toChatError(APIError.generate(400, undefined, 'raw text body', new Headers()))).toEqual({
        status_code: 400,
        detail: UPSTREAM_REJECTED,
      });
    });
  });

  describe('upstream 401/403 become 502 without the upstream text', () => {
    it.each([401, 403])('%i', (status) => {
      const error = upstream(status, 'Incorrect API key provided: sk-secret');
      const result = toChatError(error);
      expect(result).toEqual({ status_code: 502, detail: UPSTREAM_AUTH_FAILED });
      expect(result.detail).toBe('Upstream authentication failed');
      expect(JSON.stringify(result)).not.toContain('sk-secret');
      expect(JSON.stringify(result)).not.toContain('Incorrect API key');
    });

    it('classes constructed directly', () => {
      const auth = new AuthenticationError(401, { message: 'key sk-secret rejected' }, undefined, new Headers());
      const denied = new PermissionDeniedError(403, { message: 'key sk-secret denied' }, undefined, new Headers());
      for (const error of [auth, denied]) {
        const result = toChatError(error);
        expect(result).toEqual({ status_code: 502, detail: 'Upstream authentication failed' });
        expect(JSON.stringify(result)).not.toContain('sk-secret');
      }
    });
  });

  it('upstream 429 becomes 429 Rate limited by upstream', () => {
    expect(toChatError(upstream(429, 'slow down, org org-123'))).toEqual({
      status_code: 429,
      detail: UPSTREAM_RATE_LIMITED,
    });
    expect(UPSTREAM_RATE_LIMITED).toBe('Rate limited by upstream');
    expect(
      toChatError(new RateLimitError(429, { message: 'slow down' }, undefined, new Headers())).status_code,
    ).toBe(429);
  });

  it.each([500, 502, 503])('upstream %i becomes 502 Upstream error', (status) => {
    const error = upstream(status, 'internal trace at /srv/openai');
    expect(error).toBeInstanceOf(InternalServerError);
    expect(toChatError(error)).toEqual({ status_code: 502, detail: 'Upstream error' });
  });

  it('an error the upstream reported inside its stream (no status) becomes 502 Upstream error', () => {
    const error = new APIError(undefined, { message: 'stream broke' }, undefined, new Headers());
    expect(toChatError(error)).toEqual({ status_code: 502, detail: UPSTREAM_ERROR });
  });

  it('a connection error becomes 502 Upstream connection lost', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toChatError(new APIConnectionError({ cause }))).toEqual({
      status_code: 502,
      detail: 'Upstream connection lost',
    });
    // What APIError.generate returns when there is no status at all.
    expect(toChatError(APIError.generate(undefined, cause, 'Connection error.', undefined))).toEqual({
      status_code: 502,
      detail: UPSTREAM_CONNECTION_LOST,
    });
  });

  it('a timeout becomes 504 Upstream timeout (though it is also a connection error)', () => {
    const error = new APIConnectionTimeoutError();
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(toChatError(error)).toEqual({ status_code: 504, detail: 'Upstream timeout' });
    expect(UPSTREAM_TIMEOUT).toBe('Upstream timeout');
  });

  describe('Nest HttpExceptions', () => {
    it('a pipe BadRequestException keeps its status and message', () => {
      const error = new BadRequestException('Validation failed (boolean string is expected)');
      expect(toChatError(error)).toEqual({
        status_code: 400,
        detail: 'Validation failed (boolean string is expected)',
      });
    });

    it('a ValidationPipe-style message array is joined', () => {
      const error = new BadRequestException(['messages must be an array', 'stream must be a boolean']);
      expect(toChatError(error)).toEqual({
        status_code: 400,
        detail: 'messages must be an array; stream must be a boolean',
      });
    });

    it('other 4xx keep status and message', () => {
      expect(toChatError(new ForbiddenException('not yours'))).toEqual({ status_code: 403, detail: 'not yours' });
      expect(toChatError(new NotFoundException())).toEqual({ status_code: 404, detail: 'Not Found' });
      expect(toChatError(new HttpException('I am a teapot', HttpStatus.I_AM_A_TEAPOT))).toEqual({
        status_code: 418,
        detail: 'I am a teapot',
      });
    });

    it.each([
      ['InternalServerErrorException', new InternalServerErrorException('db password is hunter2')],
      ['HttpException 502', new HttpException('bad gateway detail', 502)],
    ])('a 5xx %s becomes 500 Internal Server Error', (_, error) => {
      expect(toChatError(error)).toEqual({ status_code: 500, detail: INTERNAL_SERVER_ERROR });
    });

    it('keeps a 503 ServiceUnavailableException (the shutdown) with its message', () => {
      expect(toChatError(new ServiceUnavailableException('Server shutting down'))).toEqual({
        status_code: 503,
        detail: 'Server shutting down',
      });
    });
  });

  it.each<[string, unknown]>([
    ['a plain Error', new Error('factory bug: cannot read x of undefined')],
    ['a TypeError', new TypeError('boom')],
    ['a string', 'something broke'],
    ['undefined', undefined],
    ['null', null],
    ['an object', { status: 400, message: 'looks like an error' }],
  ])('%s becomes 500 Internal Server Error', (_, error) => {
    expect(toChatError(error)).toEqual({ status_code: 500, detail: 'Internal Server Error' });
  });
});

describe('toChatError on errors the real SDK raises against MockOpenAIServer', () => {
  let server: MockOpenAIServer;
  let client: OpenAI;
  const messages = [{ role: 'user' as const, content: 'hi' }];

  beforeAll(async () => {
    server = await MockOpenAIServer.start();
    client = new OpenAI({ apiKey: 'sk-secret', baseURL: server.url, maxRetries: 0, timeout: 5000 });
  });
  afterEach(async () => {
    await server.waitFor(() => server.openConnections === 0);
    server.reset();
  });
  afterAll(() => server.close());

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    try {
      await promise;
    } catch (error) {
      return error;
    }
    throw new Error('expected the call to fail');
  }

  it('400 keeps the upstream message', async () => {
    server.setReply({ status: 400, errorMessage: 'Invalid value for temperature' });
    const error = await rejection(client.chat.completions.create({ model: 'm', messages }));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(toChatError(error)).toEqual({ status_code: 400, detail: 'Invalid value for temperature' });
  });

  it('401 hides the key the upstream quotes', async () => {
    server.setReply({ status: 401, errorMessage: 'Incorrect API key provided: sk-secret' });
    const error = await rejection(client.chat.completions.create({ model: 'm', messages, stream: true }));
    expect(error).toBeInstanceOf(AuthenticationError);
    const result = toChatError(error);
    expect(result).toEqual({ status_code: 502, detail: 'Upstream authentication failed' });
    expect(JSON.stringify(result)).not.toContain('sk-secret');
  });

  it('429 becomes Rate limited by upstream', async () => {
    server.setReply({ status: 429 });
    const error = await rejection(client.chat.completions.create({ model: 'm', messages }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(toChatError(error)).toEqual({ status_code: 429, detail: 'Rate limited by upstream' });
  });

  it('500 becomes 502 Upstream error', async () => {
    server.setReply({ status: 500 });
    const error = await rejection(client.chat.completions.create({ model: 'm', messages, stream: true }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(toChatError(error)).toEqual({ status_code: 502, detail: 'Upstream error' });
  });

  it('a refused connection becomes 502 Upstream connection lost', async () => {
    const gone = await MockOpenAIServer.start();
    const url = gone.url;
    await gone.close();
    const offline = new OpenAI({ apiKey: 'sk-secret', baseURL: url, maxRetries: 0, timeout: 5000 });
    const error = await rejection(offline.chat.completions.create({ model: 'm', messages }));
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    expect(toChatError(error)).toEqual({ status_code: 502, detail: 'Upstream connection lost' });
  });

  it('a hanging upstream becomes 504 Upstream timeout', async () => {
    server.setReply({ hang: true });
    const impatient = new OpenAI({ apiKey: 'sk-secret', baseURL: server.url, maxRetries: 0, timeout: 100 });
    const error = await rejection(impatient.chat.completions.create({ model: 'm', messages }));
    expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(toChatError(error)).toEqual({ status_code: 504, detail: 'Upstream timeout' });
  });
});
