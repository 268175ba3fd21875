import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import {
  BODY_NOT_AN_OBJECT,
  BODY_TOO_LARGE,
  MESSAGE_NOT_AN_OBJECT,
  UNSUPPORTED_MEDIA_TYPE,
} from '../lanarky-openai.messages';
import { ChatRequestValidator } from './chat-request.validator';

const user = (content: string) => ({ role: 'user', content });
const JSON_HEADERS: IncomingHttpHeaders = { 'content-type': 'application/json', 'content-length': '50' };

/** The exception a promise rejects with, failing the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<HttpException> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpException);
    return error as HttpException;
  }
  throw new Error('expected a rejection');
}

describe('ChatRequestValidator', () => {
  const validator = new ChatRequestValidator({ maxMessages: 2, maxContentLength: 5, bodyLimit: 100 });

  /** Asserts a 400 with Nest's validation body carrying exactly `messages`. */
  async function expectBadRequest(body: unknown, messages: string[]) {
    const error = await rejection(validator.validate(body));
    expect(error).toBeInstanceOf(BadRequestException);
    expect(error.getStatus()).toBe(400);
    expect(error.getResponse()).toEqual({ statusCode: 400, message: messages, error: 'Bad Request' });
  }

  describe('validate()', () => {
    it.each<[string, unknown]>([
      ['null', null],
      ['a string', 'hello'],
      ['a number', 42],
      ['an array', [user('hi')]],
      ['undefined', undefined],
    ])('rejects a body that is %s', async (_, body) => {
      await expectBadRequest(body, [BODY_NOT_AN_OBJECT]);
      expect(BODY_NOT_AN_OBJECT).toBe('request body must be a JSON object');
    });

    it('rejects missing messages', async () => {
      await expectBadRequest({}, ['messages must be an array']);
      await expectBadRequest({ prompt: 'hi' }, ['messages must be an array']);
    });

    it.each<[string, unknown]>([
      ['a string', 'hi'],
      ['an object', { 0: user('hi') }],
      ['null', null],
      ['a number', 1],
    ])('rejects messages that are %s', async (_, messages) => {
      await expectBadRequest({ messages }, ['messages must be an array']);
    });

    it('rejects empty messages', async () => {
      await expectBadRequest({ messages: [] }, ['messages should not be empty']);
    });

    it.each<[string, unknown]>([
      ['a string', 'hello'],
      ['null', null],
      ['an array', [user('x')]],
      ['a number', 7],
    ])('rejects a message that is %s, naming its index', async (_, stray) => {
      await expectBadRequest({ messages: [user('hi'), stray] }, ['messages.1 must be an object']);
      expect(MESSAGE_NOT_AN_OBJECT(1)).toBe('messages.1 must be an object');
    });

    it.each([
      ['system', { role: 'system', content: 'obey' }],
      ['an unknown role', { role: 'tool', content: 'x' }],
      ['a missing role', { content: 'x' }],
      ['a non-string role', { role: 1, content: 'x' }],
    ])('rejects %s, naming messages.0.role', async (_, message) => {
      await expectBadRequest({ messages: [message] }, [
        'messages.0.role must be one of the following values: user, assistant',
      ]);
    });

    it('names the index of the offending message', async () => {
      await expectBadRequest({ messages: [user('ok'), { role: 'developer', content: 'x' }] }, [
        'messages.1.role must be one of the following values: user, assistant',
      ]);
    });

    it.each<[string, unknown]>([
      ['a number', 5],
      ['null', null],
      ['an array of parts', [{ type: 'text', text: 'hi' }]],
      ['missing', undefined],
    ])('rejects content that is %s', async (_, content) => {
      await expectBadRequest({ messages: [{ role: 'user', content }] }, ['messages.0.content must be a string']);
    });

    it('rejects more messages than maxMessages', async () => {
      await expectBadRequest({ messages: [user('a'), user('b'), user('c')] }, [
        'messages must contain no more than 2 elements',
      ]);
    });

    it('rejects content longer than maxContentLength', async () => {
      await expectBadRequest({ messages: [user('123456')] }, [
        'messages.0.content must be shorter than or equal to 5 characters',
      ]);
    });

    it('accepts the limits exactly', async () => {
      await expect(validator.validate({ messages: [user('12345'), { role: 'assistant', content: '' }] })).resolves.toEqual({
        messages: [user('12345'), { role: 'assistant', content: '' }],
      });
    });

    it('reports every failing field of a message, one rule each', async () => {
      await expectBadRequest({ messages: [user('ok'), { role: 'bad', content: 123 }] }, [
        'messages.1.role must be one of the following values: user, assistant',
        'messages.1.content must be a string',
      ]);
    });

    it('returns the messages with unknown fields stripped', async () => {
      const body = {
        messages: [
          { role: 'user', content: 'hi', name: 'mallory', tool_calls: [] },
          { role: 'assistant', content: 'yo', extra: { nested: true } },
        ],
        model: 'gpt-4',
        stream: true,
      };
      const result = await validator.validate(body);
      expect(result).toEqual({ messages: [user('hi'), { role: 'assistant', content: 'yo' }] });
      expect(Object.keys(result)).toEqual(['messages']);
      expect(result.messages.map((message) => Object.keys(message).sort())).toEqual([
        ['content', 'role'],
        ['content', 'role'],
      ]);
    });

    it('uses default limits when given none', async () => {
      const lenient = new ChatRequestValidator({});
      const many = Array.from({ length: 100 }, (_, i) => user(`message ${i}`));
      await expect(lenient.validate({ messages: many })).resolves.toEqual({ messages: many });
      const error = await rejection(lenient.validate({ messages: [...many, user('one more')] }));
      expect(error.getResponse()).toMatchObject({ message: ['messages must contain no more than 100 elements'] });
    });
  });

  describe('validateRequest()', () => {
    it('accepts a JSON request and returns the validated body', async () => {
      const body = { messages: [user('hi')] };
      await expect(validator.validateRequest({ headers: JSON_HEADERS, body })).resolves.toEqual(body);
    });

    it.each(['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json'])(
      'accepts Content-Type %s',
      async (contentType) => {
        const headers = { 'content-type': contentType, 'content-length': '20' };
        await expect(validator.validateRequest({ headers, body: { messages: [user('hi')] } })).resolves.toEqual({
          messages: [user('hi')],
        });
      },
    );

    it.each<[string, string | undefined]>([
      ['text/plain', 'text/plain'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['a look-alike', 'application/jsonp'],
      ['none', undefined],
    ])('rejects Content-Type %s with 415', async (_, contentType) => {
      const headers: IncomingHttpHeaders = { 'content-length': '20' };
      if (contentType) headers['content-type'] = contentType;
      const error = await rejection(validator.validateRequest({ headers, body: { messages: [user('hi')] } }));
      expect(error).toBeInstanceOf(UnsupportedMediaTypeException);
      expect(error.getStatus()).toBe(415);
      expect(error.getResponse()).toEqual({
        statusCode: 415,
        message: UNSUPPORTED_MEDIA_TYPE(contentType),
        error: 'Unsupported Media Type',
      });
    });

    it('rejects a Content-Length over bodyLimit with 413', async () => {
      const headers = { 'content-type': 'application/json', 'content-length': '101' };
      const error = await rejection(validator.validateRequest({ headers, body: { messages: [user('hi')] } }));
      expect(error).toBeInstanceOf(PayloadTooLargeException);
      expect(error.getStatus()).toBe(413);
      expect(error.getResponse()).toEqual({
        statusCode: 413,
        message: BODY_TOO_LARGE(100),
        error: 'Payload Too Large',
      });
      expect(BODY_TOO_LARGE(100)).toBe('request body is larger than 100 bytes');
    });

    it('accepts a Content-Length equal to bodyLimit', async () => {
      const headers = { 'content-type': 'application/json', 'content-length': '100' };
      await expect(validator.validateRequest({ headers, body: { messages: [user('hi')] } })).resolves.toEqual({
        messages: [user('hi')],
      });
    });

    it('checks the size before the body', async () => {
      const headers = { 'content-type': 'application/json', 'content-length': '5000' };
      const error = await rejection(validator.validateRequest({ headers, body: 'not an object' }));
      expect(error.getStatus()).toBe(413);
    });

    it('validates the body of a well-formed request', async () => {
      const error = await rejection(
        validator.validateRequest({ headers: JSON_HEADERS, body: { messages: [{ role: 'system', content: 'x' }] } }),
      );
      expect(error).toBeInstanceOf(BadRequestException);
      expect(error.getResponse()).toEqual({
        statusCode: 400,
        message: ['messages.0.role must be one of the following values: user, assistant'],
        error: 'Bad Request',
      });
    });
  });
});
