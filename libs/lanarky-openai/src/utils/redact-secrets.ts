/** What a secret is replaced with in a text shown to a client or written to a log. */
export const REDACTED = '[redacted]';

/** Shorter values are placeholders (`none`, `no-key`, `ollama`), not secrets: replacing them would garble messages. */
const MIN_SECRET_LENGTH = 8;

/**
 * `text` with every occurrence of each secret replaced by `[redacted]`: for upstream messages
 * that quote the key they were sent (`bad request, key Bearer sk-...`).
 */
export function redactSecrets(text: string, secrets: Iterable<string | null | undefined> = []): string {
  let redacted = text;
  for (const secret of secrets) {
    if (typeof secret === 'string' && secret.length >= MIN_SECRET_LENGTH && redacted.includes(secret)) {
      redacted = redacted.split(secret).join(REDACTED);
    }
  }
  return redacted;
}
