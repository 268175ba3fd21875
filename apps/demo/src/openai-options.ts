import { Logger } from '@nestjs/common';
import type { LanarkyOpenAIModuleOptions } from '@lanarky/openai';
import { OFFLINE_MODEL, createOfflineFetch } from '@lanarky/openai/testing';
import OpenAI from 'openai';

/**
 * The demo's client: a real OpenAI-compatible server when the environment names one, the
 * embedded offline model otherwise, so the demo runs with no key and no network.
 */
export function demoOpenAIOptions(env: NodeJS.ProcessEnv = process.env): LanarkyOpenAIModuleOptions {
  if (env.OPENAI_API_KEY || env.OPENAI_BASE_URL) {
    return { defaultModel: env.LANARKY_MODEL || undefined };
  }
  new Logger('Demo').log(
    'No OPENAI_API_KEY or OPENAI_BASE_URL: serving the embedded offline model. ' +
      'Set OPENAI_API_KEY for OpenAI, or OPENAI_BASE_URL for Ollama, vLLM or any OpenAI-compatible server.',
  );
  return {
    client: new OpenAI({ apiKey: 'offline', baseURL: 'http://offline.lanarky/v1', fetch: createOfflineFetch() }),
    defaultModel: OFFLINE_MODEL,
  };
}
