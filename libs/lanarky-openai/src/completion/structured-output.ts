import { HttpStatus, HttpException, type Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { targetConstructorToSchema } from 'class-validator-jsonschema';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { ResponseFormatJSONSchema } from 'openai/resources/shared';
import { ANSWER_EMPTY, ANSWER_MISMATCH, ANSWER_NOT_JSON } from '../lanarky-openai.messages';
import { isJsonObject } from '../utils/is-json-object';

/**
 * The `response_format` asking the model for JSON matching a class-validator DTO: its JSON
 * schema is generated from the DTO's decorators.
 *
 * @example
 * new ChatCompletionResource({ response_format: jsonSchemaFormat(AnswerDto) })
 */
export function jsonSchemaFormat(dto: Type<unknown>): ResponseFormatJSONSchema {
  return {
    type: 'json_schema',
    json_schema: { name: dto.name, schema: targetConstructorToSchema(dto) as Record<string, unknown> },
  };
}

/** The model's answer parsed as JSON; a malformed answer is the upstream's fault, a 502 saying what failed. */
export function parseAnswer(completion: ChatCompletion): unknown {
  const content = completion.choices[0]?.message?.content;
  if (!content) {
    throw badGateway(ANSWER_EMPTY);
  }
  try {
    return JSON.parse(content);
  } catch (error) {
    throw badGateway(ANSWER_NOT_JSON((error as Error).message));
  }
}

/** A parsed answer transformed into and validated against a class-validator DTO; a 502 naming every mismatch. */
export async function validateAnswer<T extends object>(value: unknown, dto: Type<T>): Promise<T> {
  if (!isJsonObject(value)) {
    throw badGateway(ANSWER_MISMATCH(dto.name, ['the answer is not a JSON object']));
  }
  const answer = plainToInstance(dto, value);
  const errors = await validate(answer);
  if (errors.length > 0) {
    throw badGateway(ANSWER_MISMATCH(dto.name, flatten(errors)));
  }
  return answer;
}

function flatten(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap(({ property, constraints, children }) => {
    const name = path ? `${path}.${property}` : property;
    const own = Object.values(constraints ?? {}).map((message) => message.replace(property, name));
    return [...own, ...flatten(children ?? [], name)];
  });
}

function badGateway(message: string): HttpException {
  return new HttpException({ statusCode: HttpStatus.BAD_GATEWAY, message, error: 'Bad Gateway' }, HttpStatus.BAD_GATEWAY);
}
