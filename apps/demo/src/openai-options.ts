import { Logger } from '@nestjs/common';
import type { LanarkyOpenAIModuleOptions } from '@lanarky/openai';
import { OFFLINE_MODEL, createOfflineFetch } from '@lanarky/openai/testing';
import OpenAI from 'openai';
import { ENV_NOT_A_NUMBER } from './demo.messages';

/**
 * The demo's client: a real OpenAI-compatible server when the environment names one, the
 * embedded offline model otherwise, so the demo runs with no key and no network.
 * `OPENAI_MAX_RETRIES` and `OPENAI_TIMEOUT` (ms) set the client's retries and timeout; a value
 * that is not a number stops the demo at startup, naming the variable.
 */
export function demoOpenAIOptions(env: NodeJS.ProcessEnv = process.env): LanarkyOpenAIModuleOptions {
  const maxRetries = readNumber(env, 'OPENAI_MAX_RETRIES', { min: 0, expected: 'a whole number of retries, 0 or more' });
  const timeout = readNumber(env, 'OPENAI_TIMEOUT', { min: 1, expected: 'a whole number of milliseconds, 1 or more' });
  if (env.OPENAI_API_KEY || env.OPENAI_BASE_URL) {
    return { defaultModel: env.LANARKY_MODEL || undefined, maxRetries, timeout };
  }
  new Logger('Demo').log(
    'No OPENAI_API_KEY or OPENAI_BASE_URL: serving the embedded offline model. ' +
      'Set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for Ollama, vLLM or any OpenAI-compatible server.',
  );
  return {
    client: new OpenAI({ apiKey: 'offline', baseURL: 'http://offline.lanarky/v1', fetch: createOfflineFetch(), maxRetries, timeout }),
    defaultModel: OFFLINE_MODEL,
  };
}

/** A whole number from the environment, undefined when unset or blank. */
function readNumber(env: NodeJS.ProcessEnv, name: string, { min, expected }: { min: number; expected: string }): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) {
    return undefined;
  }
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new Error(ENV_NOT_A_NUMBER(name, raw, expected));
  }
  return value;
}
