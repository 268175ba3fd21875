import { Inject } from '@nestjs/common';
import { OPENAI_CLIENT } from '../lanarky-openai.constants';

/**
 * Injects the `OpenAI` client of `LanarkyOpenAIModule`.
 *
 * @example
 * constructor(\@InjectOpenAI() private readonly openai: OpenAI) {}
 */
export const InjectOpenAI = (): PropertyDecorator & ParameterDecorator => Inject(OPENAI_CLIENT);
