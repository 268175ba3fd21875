import type { Type as NestType } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsIn,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { DEFAULT_MAX_CONTENT_LENGTH, DEFAULT_MAX_MESSAGES } from '../lanarky-openai.constants';
import type { ChatMessage } from '../resources/openai.resource';

/** Roles a client may send: the system prompt is the server's alone. */
export const CHAT_ROLES = ['user', 'assistant'] as const;

/** Limits a chat request is checked against. */
export interface ChatRequestLimits {
  maxMessages: number;
  maxContentLength: number;
}

/** The body of a chat request once validated. */
export interface ChatRequest {
  messages: ChatMessage[];
}

/**
 * Builds the DTO classes for a set of limits, so the module's options stay declarative
 * class-validator rules (and Nest's `ValidationPipe` words every error).
 */
export function createChatRequestDto(limits: ChatRequestLimits): NestType<ChatRequest> {
  class ChatMessageDto implements ChatMessage {
    @IsIn(CHAT_ROLES)
    role!: 'user' | 'assistant';

    // class-validator runs a property's rules bottom-up, and stops at the first failure.
    @MaxLength(limits.maxContentLength)
    @IsString()
    content!: string;
  }

  class ChatRequestDto implements ChatRequest {
    @ValidateNested({ each: true })
    @ArrayMaxSize(limits.maxMessages)
    @ArrayNotEmpty()
    @IsArray()
    @Type(() => ChatMessageDto)
    messages!: ChatMessageDto[];
  }

  return ChatRequestDto;
}

/** The request DTO with the default limits, for hand-written handlers: `@Body() body: ChatRequestDto`. */
export const ChatRequestDto = createChatRequestDto({
  maxMessages: DEFAULT_MAX_MESSAGES,
  maxContentLength: DEFAULT_MAX_CONTENT_LENGTH,
});
/** A validated chat request. */
export type ChatRequestDto = ChatRequest;
