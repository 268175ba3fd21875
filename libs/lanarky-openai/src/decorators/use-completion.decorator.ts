import { SetMetadata, UseInterceptors, applyDecorators, createParamDecorator, type ExecutionContext, type Type } from '@nestjs/common';
import type { ChatResourceFactory } from '../interfaces/chat-resource-factory.interface';
import { ApiCompletion } from '../openapi/openapi.decorators';
import { COMPLETION_METADATA } from '../lanarky-openai.constants';
import { CompletionInterceptor, completionOf } from '../interceptors/completion.interceptor';
import type { OpenAIResource } from '../resources/openai.resource';

/** A factory `@UseCompletion()` can call: a method of the handler's class, or a provider class. */
export type CompletionFactory =
  | ((...args: any[]) => OpenAIResource | Promise<OpenAIResource>)
  | Type<ChatResourceFactory>;

/** Options of {@link UseCompletion}. */
export interface UseCompletionOptions {
  /**
   * Read the model's answer as JSON, transformed into and validated against this class-validator
   * DTO (`@Completion('json')`). Unless the factory set a `response_format`, the model is asked
   * for JSON matching the DTO's schema.
   */
  schema?: Type<unknown>;
}

/** What `@UseCompletion()` writes on a handler. */
export interface CompletionMetadata extends UseCompletionOptions {
  factory: CompletionFactory;
}

/**
 * Computes a completion before the handler runs, like Lanarky's `Depends(factory)`: the request's
 * messages are validated, the factory builds a resource (its parameters come from Nest's parameter
 * decorators and pipes when it is a method of the same class), and the resource is called.
 * The handler receives the result with `@Completion()`. Upstream failures answer with the
 * protocol's statuses as plain HTTP errors; a client that leaves cancels the call.
 *
 * @example
 * \@Controller()
 * export class JsonController {
 *   jsonResource(\@Query('temperature', new DefaultValuePipe(0.2), ParseFloatPipe) temperature: number) {
 *     return new ChatCompletionResource({ temperature, response_format: { type: 'json_object' } });
 *   }
 *
 *   \@Post('json')
 *   \@UseCompletion(JsonController.prototype.jsonResource)
 *   json(\@Completion('json') answer: unknown) {
 *     return answer;
 *   }
 * }
 */
export function UseCompletion(factory: CompletionFactory, options: UseCompletionOptions = {}): MethodDecorator {
  return (target, key, descriptor) =>
    applyDecorators(
      SetMetadata<string, CompletionMetadata>(COMPLETION_METADATA, { ...options, factory }),
      UseInterceptors(CompletionInterceptor),
      ApiCompletion(factory, target),
    )(target, key, descriptor);
}

/**
 * The completion `@UseCompletion()` computed for this request: the `ChatCompletion` itself, its
 * answer's text with `'text'`, or its answer parsed as JSON (validated against the schema DTO)
 * with `'json'`.
 */
export const Completion = createParamDecorator((kind: 'completion' | 'text' | 'json' | undefined, context: ExecutionContext) =>
  completionOf(context.switchToHttp().getRequest(), kind ?? 'completion'),
);
