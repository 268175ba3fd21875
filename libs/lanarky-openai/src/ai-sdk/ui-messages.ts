import { BadRequestException } from '@nestjs/common';
import type { ChatMessage } from '../resources/openai.resource';
import { isJsonObject } from '../utils/is-json-object';
import { UI_MESSAGES_NOT_ARRAY, UI_PARTS_NOT_ARRAY, UI_PART_NOT_TEXT } from '../lanarky-openai.messages';

/** Parts that carry no content for the model and are skipped. */
const SKIPPED_PARTS = new Set(['step-start']);

/**
 * The conversation of a `useChat` request (AI SDK UI messages with `parts`) as chat messages:
 * text parts joined; any other part is refused with 400 until the library supports it. Roles are
 * left for the shared validation (which refuses `system`).
 */
export function fromUiMessages(body: unknown): { messages: Array<Partial<ChatMessage>> } {
  const messages = isJsonObject(body) ? body.messages : undefined;
  if (!Array.isArray(messages)) {
    throw new BadRequestException([UI_MESSAGES_NOT_ARRAY]);
  }
  return {
    messages: messages.map((message, index) => {
      if (!isJsonObject(message) || !Array.isArray(message.parts)) {
        throw new BadRequestException([UI_PARTS_NOT_ARRAY(index)]);
      }
      const texts = message.parts.map((part, at) => {
        if (isJsonObject(part) && part.type === 'text' && typeof part.text === 'string') {
          return part.text;
        }
        if (isJsonObject(part) && SKIPPED_PARTS.has(part.type as string)) {
          return '';
        }
        throw new BadRequestException([UI_PART_NOT_TEXT(index, at, isJsonObject(part) ? part.type : undefined)]);
      });
      return { role: message.role as ChatMessage['role'], content: texts.join('') };
    }),
  };
}
