/** `text` as a single-quoted TypeScript string literal, escaped: for prompts in templates. */
export function toStringLiteral(text: string): string {
  const escaped = JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `'${escaped}'`;
}
