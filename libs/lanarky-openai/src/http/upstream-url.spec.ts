import { upstreamHost } from './upstream-url';

describe('upstream URL', () => {
  it('names the host and port of a base URL, never its credentials, path or query', () => {
    expect(upstreamHost('http://user:secret@127.0.0.1:8000/v1?key=secret')).toBe('127.0.0.1:8000');
    expect(upstreamHost('https://api.openai.com/v1')).toBe('api.openai.com');
    expect(upstreamHost('not a url')).toBeUndefined();
    expect(upstreamHost(undefined)).toBeUndefined();
  });
});
