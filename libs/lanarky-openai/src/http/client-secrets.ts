import type { OpenAI } from 'openai';

/** Headers whose values are credentials, when a client is given them as default headers. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key']);

/**
 * The credentials a client sends upstream: its API key (read when asked, so a key from an
 * `apiKey` function is the one last sent), its admin key, and the values of credential headers
 * among its default headers (the token after a scheme such as `Bearer`, else the whole value). What an upstream
 * error message must never be allowed to echo.
 */
export function clientSecrets(client: OpenAI | undefined): string[] {
  if (!client) {
    return [];
  }
  const secrets = [client.apiKey, client.adminAPIKey];
  // The SDK keeps its constructor options there; it offers no getter for the default headers.
  const headers = (client as unknown as { _options?: { defaultHeaders?: unknown } })._options?.defaultHeaders;
  for (const [name, value] of headerEntries(headers)) {
    if (CREDENTIAL_HEADERS.has(name.toLowerCase()) && typeof value === 'string') {
      secrets.push(value.trim().replace(/^\S+\s+/, ''));
    }
  }
  return secrets.filter((secret): secret is string => typeof secret === 'string' && secret.trim() !== '');
}

/** Name/value pairs of the SDK's `HeadersLike`: a `Headers`, pairs, a record, or its own nullable headers. */
function headerEntries(headers: unknown): Array<[string, unknown]> {
  if (!headers || typeof headers !== 'object') {
    return [];
  }
  if (headers instanceof Headers) {
    return pairs(headers);
  }
  if (Array.isArray(headers)) {
    return headers.filter(Array.isArray).map(([name, value]) => [String(name), value]);
  }
  const { values } = headers as { values?: unknown };
  return values instanceof Headers ? pairs(values) : Object.entries(headers);
}

function pairs(headers: Headers): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  headers.forEach((value, name) => found.push([name, value]));
  return found;
}
