import { baseURLProblem, resolveBaseURL, upstreamHost, withoutCredentials } from './upstream-url';

describe('upstream URL', () => {
  describe('baseURLProblem', () => {
    it.each(['http://localhost:11434/v1', 'https://api.openai.com/v1', 'HTTPS://example.com', 'http://[::1]:8000/v1', 'http://u:p@host/v1'])(
      'accepts %p',
      (value) => expect(baseURLProblem(value)).toBeUndefined(),
    );

    it.each([
      ['localhost:11434/v1', 'it has no scheme; write http://localhost:11434/v1'],
      ['127.0.0.1:8000', 'it has no scheme; write http://127.0.0.1:8000'],
      ['api.openai.com/v1', 'it has no scheme; write http://api.openai.com/v1'],
      ['ollama:secret@localhost/v1', 'it has no scheme; write http://***@localhost/v1'],
      ['ftp://host/v1', 'only http:// and https:// are supported, not ftp://'],
      ['ws://host/v1', 'only http:// and https:// are supported, not ws://'],
      ['http://', 'it is not a URL; write one such as http://localhost:11434/v1'],
      ['http:/localhost/v1', 'it is not a URL; write one such as http://localhost:11434/v1'],
      ['not a url', 'it is not a URL; write one such as http://localhost:11434/v1'],
    ])('refuses %p: %s', (value, problem) => expect(baseURLProblem(value)).toBe(problem));
  });

  describe('resolveBaseURL', () => {
    it('prefers the option, then OPENAI_BASE_URL, and takes blank for unset', () => {
      expect(resolveBaseURL('http://option/v1', { OPENAI_BASE_URL: 'http://env/v1' })).toBe('http://option/v1');
      expect(resolveBaseURL(undefined, { OPENAI_BASE_URL: ' http://env/v1 ' })).toBe('http://env/v1');
      expect(resolveBaseURL('', { OPENAI_BASE_URL: '  ' })).toBeUndefined();
    });

    it('names where a bad value came from', () => {
      expect(() => resolveBaseURL('localhost:1/v1', {})).toThrow("the baseURL option 'localhost:1/v1' is not a usable base URL");
      expect(() => resolveBaseURL(undefined, { OPENAI_BASE_URL: 'localhost:1/v1' })).toThrow("OPENAI_BASE_URL 'localhost:1/v1'");
    });
  });

  it('masks credentials, and only them', () => {
    expect(withoutCredentials('https://user:pass@host/v1')).toBe('https://***@host/v1');
    expect(withoutCredentials('user:pass@host/v1')).toBe('***@host/v1');
    expect(withoutCredentials('http://host/v1?to=a@b')).toBe('http://host/v1?to=a@b');
    expect(withoutCredentials('localhost:11434/v1')).toBe('localhost:11434/v1');
  });

  it('names the host and port of a base URL, never its credentials, path or query', () => {
    expect(upstreamHost('http://user:secret@127.0.0.1:8000/v1?key=secret')).toBe('127.0.0.1:8000');
    expect(upstreamHost('https://api.openai.com/v1')).toBe('api.openai.com');
    expect(upstreamHost('not a url')).toBeUndefined();
    expect(upstreamHost(undefined)).toBeUndefined();
  });
});
