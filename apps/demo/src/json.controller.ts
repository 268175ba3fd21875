import { BadRequestException, Controller, DefaultValuePipe, ParseFloatPipe, Post, Query } from '@nestjs/common';
import { ChatCompletionResource, Completion, UseCompletion } from '@lanarky/openai';

/** A temperature the model accepts. */
function inRange(temperature: number): number {
  if (temperature < 0 || temperature > 2) {
    throw new BadRequestException('temperature must be between 0 and 2');
  }
  return temperature;
}

/** Lanarky's dependency-injection example: an ordinary endpoint that receives a finished completion. */
@Controller()
export class JsonController {
  /** The factory: its `temperature` comes from the query string, through Nest's pipes. */
  jsonResource(@Query('temperature', new DefaultValuePipe(0.5), ParseFloatPipe) temperature: number) {
    return new ChatCompletionResource({
      system: 'You are a sassy assistant designed to output JSON.',
      temperature: inRange(temperature),
      response_format: { type: 'json_object' },
    });
  }

  @Post('json')
  @UseCompletion(JsonController.prototype.jsonResource)
  json(@Completion('json') answer: unknown) {
    return answer;
  }
}
