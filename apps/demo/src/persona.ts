import { BadRequestException } from '@nestjs/common';

/** The demo's default system prompt, from Lanarky's getting-started example. */
export const SASSY = 'You are a sassy assistant';

/** Longest system prompt a client may pick for the demo. */
export const MAX_SYSTEM_LENGTH = 500;

/**
 * The system prompt for a request: the server's own unless the client picked one through the
 * factory's `system` parameter (the chat page's field), within limits.
 */
export function systemPrompt(requested: string | null | undefined): string {
  const system = requested?.trim();
  if (!system) {
    return SASSY;
  }
  if (system.length > MAX_SYSTEM_LENGTH) {
    throw new BadRequestException(`system must be at most ${MAX_SYSTEM_LENGTH} characters`);
  }
  return system;
}
