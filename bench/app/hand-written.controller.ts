import {
  Body,
  Controller,
  HttpCode,
  Inject,
  RequestMethod,
  Sse,
  ValidationPipe,
  type MessageEvent,
} from '@nestjs/common';
import { Type } from 'class-transformer';
import { ArrayNotEmpty, IsArray, IsIn, IsString, ValidateNested } from 'class-validator';
import OpenAI, { APIError } from 'openai';
import { Observable } from 'rxjs';
import { BENCH_MODEL, SYSTEM_PROMPT } from '../protocol';

/** The provider of the hand-written controller's own client. */
export const HAND_OPENAI = Symbol('HAND_OPENAI');

class HandMessage {
  @IsIn(['user', 'assistant'])
  role!: 'user' | 'assistant';

  @IsString()
  content!: string;
}

class HandChatRequest {
  @ValidateNested({ each: true })
  @ArrayNotEmpty()
  @IsArray()
  @Type(() => HandMessage)
  messages!: HandMessage[];
}

/**
 * What a user writes without the library: Nest's `@Sse()`, a validated body, the `openai` SDK,
 * the same events (`completion`, one JSON `error`) and the upstream aborted when the client leaves.
 */
@Controller()
export class HandWrittenController {
  constructor(@Inject(HAND_OPENAI) private readonly openai: OpenAI) {}

  @Sse('hand', { method: RequestMethod.POST })
  @HttpCode(200)
  chat(@Body(new ValidationPipe({ whitelist: true })) body: HandChatRequest): Observable<MessageEvent> {
    return new Observable<MessageEvent>((subscriber) => {
      const abort = new AbortController();
      const run = async () => {
        const stream = await this.openai.chat.completions.create(
          { model: BENCH_MODEL, stream: true, messages: [{ role: 'system', content: SYSTEM_PROMPT }, ...body.messages] },
          { signal: abort.signal },
        );
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta?.content;
          if (text) subscriber.next({ type: 'completion', data: text });
        }
      };
      run().then(
        () => subscriber.complete(),
        (error: unknown) => {
          if (!abort.signal.aborted) {
            const status_code = error instanceof APIError && error.status ? error.status : 502;
            subscriber.next({ type: 'error', data: { status_code, detail: 'Upstream error' } });
          }
          subscriber.complete();
        },
      );
      return () => abort.abort();
    });
  }
}
