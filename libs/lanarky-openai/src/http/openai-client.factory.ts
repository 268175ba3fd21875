import { Logger } from '@nestjs/common';
import OpenAI from 'openai';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { NO_API_KEY_WARNING } from '../lanarky-openai.messages';
import { missingKeyFetch } from './missing-key.fetch';
import type { UpstreamFetch } from './upstream-fetch';
import { resolveBaseURL } from './upstream-url';

const logger = new Logger('LanarkyOpenAI');

/**
 * The SDK's own log lines, through Nest's Logger. Only their message: the SDK may add request
 * details or a raw chunk as further arguments, which stay out of the log.
 */
const sdkLogger = ((openAILogger: Logger) => ({
  error: (message: string) => openAILogger.error(message),
  warn: (message: string) => openAILogger.warn(message),
  info: (message: string) => openAILogger.log(message),
  debug: (message: string) => openAILogger.debug(message),
}))(new Logger('OpenAI'));

/**
 * The module's one client: created once, when the module is, never per request. A ready
 * `client` is used as it is. A malformed base URL stops the app here; with neither a key nor a
 * base URL the app still starts (a starter app's own e2e test boots without a key), says so
 * once, and its client answers every request with a 401 of its own.
 */
export function createOpenAIClient(options: LanarkyOpenAIModuleOptions, upstream: UpstreamFetch): OpenAI {
  if (options.client) {
    return options.client;
  }
  const { organization, project, timeout, maxRetries, fetch = upstream.fetch } = options;
  const apiKey = options.apiKey || process.env.OPENAI_API_KEY?.trim() || undefined;
  const baseURL = resolveBaseURL(options.baseURL);
  if (!apiKey && !baseURL) {
    logger.warn(NO_API_KEY_WARNING);
    return new OpenAI({ apiKey: 'none', organization, project, timeout, maxRetries, fetch: missingKeyFetch, logger: sdkLogger });
  }
  return new OpenAI({
    // A local server (Ollama, vLLM, llama.cpp) needs no key, but the SDK insists on one.
    apiKey: apiKey ?? 'no-key',
    baseURL,
    organization,
    project,
    timeout,
    maxRetries,
    fetch,
    logger: sdkLogger,
  });
}
