/** Every text the demo shows a client or writes to a log, so tests assert the same words. */

export const PERSONA_UNKNOWN = (known: readonly string[]) =>
  `persona must be one of the following values: ${known.join(', ')}`;
export const PERSONA_NOT_SINGLE = 'persona must be a single value, given once';
export const ENV_NOT_A_NUMBER = (name: string, value: string, expected: string) =>
  `${name} must be ${expected}, got '${value}'`;
