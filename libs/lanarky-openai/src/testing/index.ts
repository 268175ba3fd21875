/** Test doubles for the upstream LLM: a scriptable OpenAI HTTP server and an embedded offline model. */
export { MockOpenAIServer } from './mock-openai-server';
export type { MockReply, RecordedRequest } from './mock-openai-server';
export { createOfflineFetch, offlineJsonReply, offlineReply, OFFLINE_MODEL } from './offline-model';
export type { OfflineFetchOptions, OfflineMessage } from './offline-model';
