import type OpenAI from 'openai';
import type { Fetch } from '../http/upstream-fetch';

/**
 * Options of {@link LanarkyOpenAIModule}: how to reach the OpenAI-compatible server, and the
 * limits every chat endpoint enforces before it calls that server.
 *
 * `apiKey` and `baseURL` fall back to the `openai` SDK's own `OPENAI_API_KEY` and
 * `OPENAI_BASE_URL` environment variables.
 */
export interface LanarkyOpenAIModuleOptions {
  /** API key of the upstream server. Never logged, never sent to clients. */
  apiKey?: string;
  /** Base URL of any OpenAI-compatible server (OpenAI, Azure, Ollama, vLLM, llama.cpp). */
  baseURL?: string;
  /** OpenAI organization id. */
  organization?: string;
  /** OpenAI project id. */
  project?: string;
  /** Model used by resources that name none (default `gpt-4o-mini`). */
  defaultModel?: string;
  /** Upstream request timeout in milliseconds (the SDK's default: 10 minutes). */
  timeout?: number;
  /**
   * Milliseconds a started stream may go without a chunk before it is given up as stalled and
   * ends with 504 (default 300,000: generous, for models that think before they speak; 0 never).
   */
  idleTimeout?: number;
  /** Ask streams for token usage with `stream_options.include_usage` (default true; off for servers that reject it). */
  streamUsage?: boolean;
  /** Upstream retries on connection errors, 429 and 5xx (the SDK's default: 2). */
  maxRetries?: number;
  /**
   * The `fetch` the client sends its requests with (say, one with a proxy). Default: undici's
   * `request()` over a keep-alive pool, which costs less than the global `fetch`.
   */
  fetch?: Fetch;
  /** A ready client; when given, the connection options above are ignored. */
  client?: OpenAI;
  /** Most messages one request may carry (default 100). */
  maxMessages?: number;
  /** Longest message content, in characters (default 100,000). */
  maxContentLength?: number;
  /**
   * Largest request body, in bytes (default 1 MiB). Raise the application's JSON body parser
   * to at least this much (`app.useBodyParser('json', { limit: ... })`): Express's default is 100 KiB.
   */
  bodyLimit?: number;
  /**
   * Milliseconds streams in flight get to finish when the app shuts down; the rest then end with a
   * 503 error event (default 10,000). Call `app.enableShutdownHooks()` for signals to close the app.
   */
  shutdownGracePeriod?: number;
  /** Milliseconds without a chunk after which an SSE comment keeps proxies from closing the stream (default 15,000; 0 turns it off). */
  keepAliveInterval?: number;
}

/**
 * A class that gives the module its options, for `forRootAsync({ useClass })` and
 * `forRootAsync({ useExisting })`.
 */
export interface LanarkyOpenAIOptionsFactory {
  createLanarkyOpenAIOptions(): LanarkyOpenAIModuleOptions | Promise<LanarkyOpenAIModuleOptions>;
}
