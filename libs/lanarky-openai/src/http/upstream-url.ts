import { BASE_URL_INVALID, BASE_URL_NOT_A_URL, BASE_URL_NO_SCHEME, BASE_URL_OTHER_SCHEME } from '../lanarky-openai.messages';

/**
 * The base URL the module's client is to use: the `baseURL` option, else `OPENAI_BASE_URL`, as
 * the SDK picks it (blank counts as unset). Throws, naming its source and its problem, when it is
 * not an http:// or https:// URL, so that a typo stops the app at startup, not the first request.
 */
export function resolveBaseURL(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromOption = option?.trim();
  const value = fromOption || env.OPENAI_BASE_URL?.trim();
  if (!value) {
    return undefined;
  }
  const problem = baseURLProblem(value);
  if (problem) {
    throw new Error(BASE_URL_INVALID(fromOption ? 'the baseURL option' : 'OPENAI_BASE_URL', withoutCredentials(value), problem));
  }
  return value;
}

/** What keeps `value` from being an http:// or https:// base URL, if anything. */
export function baseURLProblem(value: string): string | undefined {
  if (/^https?:/i.test(value)) {
    return /^https?:\/\/[^/]/i.test(value) && URL.canParse(value) ? undefined : BASE_URL_NOT_A_URL;
  }
  const scheme = /^([a-z][a-z\d+.-]*):\/\//i.exec(value)?.[1];
  if (scheme) {
    return BASE_URL_OTHER_SCHEME(scheme);
  }
  // `localhost:11434/v1` parses as a URL of scheme `localhost:`: what was meant is plain.
  const withScheme = `http://${value}`;
  return URL.canParse(withScheme) ? BASE_URL_NO_SCHEME(withoutCredentials(withScheme)) : BASE_URL_NOT_A_URL;
}

/** `value` with the `user:password@` of a URL masked, for messages. */
export function withoutCredentials(value: string): string {
  return value.replace(/^([a-z][a-z\d+.-]*:\/\/)?[^/?#@\s]*@/i, '$1***@');
}

/** `host[:port]` of a base URL, for log lines: never its credentials, path or query. */
export function upstreamHost(baseURL: string | undefined): string | undefined {
  if (!baseURL || !URL.canParse(baseURL)) {
    return undefined;
  }
  return new URL(baseURL).host || undefined;
}
