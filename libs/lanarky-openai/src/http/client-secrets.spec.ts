import OpenAI from 'openai';
import { redactSecrets } from '../utils/redact-secrets';
import { clientSecrets } from './client-secrets';

describe('clientSecrets', () => {
  it('names the API key and the admin key', () => {
    const client = new OpenAI({ apiKey: 'sk-api-0123456789', adminAPIKey: 'sk-admin-0123456789', baseURL: 'http://127.0.0.1:1/v1' });

    expect(clientSecrets(client)).toEqual(['sk-api-0123456789', 'sk-admin-0123456789']);
  });

  it.each([
    ['a record', { Authorization: 'Bearer tok-from-header-1', 'api-key': 'azure-key-0123456' }],
    ['a Headers', new Headers({ authorization: 'Bearer tok-from-header-1', 'API-Key': 'azure-key-0123456' })],
    ['pairs', [['authorization', 'Bearer tok-from-header-1'], ['api-key', 'azure-key-0123456']]],
  ])('names the tokens of credential headers given as %s, without their scheme', (_form, defaultHeaders) => {
    const client = new OpenAI({ apiKey: 'sk-api-0123456789', baseURL: 'http://127.0.0.1:1/v1', defaultHeaders: defaultHeaders as never });

    expect(clientSecrets(client)).toEqual(expect.arrayContaining(['sk-api-0123456789', 'tok-from-header-1', 'azure-key-0123456']));
    expect(clientSecrets(client)).not.toContain('Bearer tok-from-header-1');
  });

  it('names nothing without a client', () => {
    expect(clientSecrets(undefined)).toEqual([]);
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of each secret and keeps the rest', () => {
    expect(redactSecrets('key sk-abcdefgh12 and again sk-abcdefgh12, not sk-other', ['sk-abcdefgh12'])).toBe(
      'key [redacted] and again [redacted], not sk-other',
    );
  });

  it('leaves placeholders shorter than 8 characters alone (no-key, none, ollama)', () => {
    expect(redactSecrets('model not found: ollama pull llama3', ['ollama', 'no-key', null, undefined])).toBe(
      'model not found: ollama pull llama3',
    );
  });
});
