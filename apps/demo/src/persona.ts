import { BadRequestException } from '@nestjs/common';
import { PERSONA_NOT_SINGLE, PERSONA_UNKNOWN } from './demo.messages';

/** The demo's default system prompt, from Lanarky's getting-started example. */
export const SASSY = 'You are a sassy assistant';

/**
 * The personas a client may pick by name (`?persona=pirate`). The system prompt stays the
 * server's: clients choose among these, they never write one.
 */
export const PERSONAS = {
  sassy: SASSY,
  pirate: 'You are a pirate: answer every question as an old sea dog would, arr.',
  poet: 'You are a poet: answer in four short rhyming lines.',
  terse: 'You are a terse assistant: answer in one sentence.',
} as const;

/** A persona's name. */
export type PersonaName = keyof typeof PERSONAS;

/** The persona of a request that names none. */
export const DEFAULT_PERSONA: PersonaName = 'sassy';

/** The names clients may pick, in the order the chat page lists them. */
export const PERSONA_NAMES = Object.keys(PERSONAS) as PersonaName[];

/**
 * The system prompt of the persona a client named; the default one when it named none. An
 * unknown name, or several (a repeated query parameter), is a 400 before any upstream call.
 */
export function personaPrompt(requested: unknown): string {
  if (requested === undefined || requested === null || requested === '') {
    return PERSONAS[DEFAULT_PERSONA];
  }
  if (typeof requested !== 'string') {
    throw new BadRequestException(PERSONA_NOT_SINGLE);
  }
  if (!Object.hasOwn(PERSONAS, requested)) {
    throw new BadRequestException(PERSONA_UNKNOWN(PERSONA_NAMES));
  }
  return PERSONAS[requested as PersonaName];
}
