/** Injection token of the module's `OpenAI` client. */
export const OPENAI_CLIENT = Symbol('LANARKY_OPENAI_CLIENT');

/** Metadata key written by `@ChatResource()`. */
export const CHAT_RESOURCE_METADATA = 'lanarky:chat-resource';

/** Metadata key written by `@UseCompletion()`. */
export const COMPLETION_METADATA = 'lanarky:completion';

/** Brands a `LanarkyWsAdapter`, so that the module knows it without loading `@nestjs/platform-ws`. */
export const LANARKY_WS_ADAPTER = Symbol.for('lanarky:ws-adapter');

export const DEFAULT_MODEL = 'gpt-4o-mini';
export const DEFAULT_MAX_MESSAGES = 100;
export const DEFAULT_MAX_CONTENT_LENGTH = 100_000;
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_KEEP_ALIVE_INTERVAL = 15_000;
export const DEFAULT_IDLE_TIMEOUT = 300_000;
export const DEFAULT_MAX_PENDING_DATA = 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_PERIOD = 10_000;
