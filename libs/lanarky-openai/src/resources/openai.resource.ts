import type OpenAI from 'openai';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { ChatRunResult } from './chat-run';
import type { Observable } from 'rxjs';
import { NO_CLIENT } from '../lanarky-openai.messages';

/** A chat message as clients send it; the system prompt belongs to the server. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** Options every resource takes. */
export interface OpenAIResourceOptions {
  /** The client to call; by default, the client of `LanarkyOpenAIModule`. */
  client?: OpenAI;
  /** The model to ask; by default, the module's `defaultModel`. */
  model?: string;
  /** Milliseconds a stream may go without a chunk before it ends with 504; by default, the module's `idleTimeout`. */
  idleTimeout?: number;
  /** Ask a stream for token usage (`stream_options.include_usage`); by default, the module's `streamUsage` (true). */
  streamUsage?: boolean;
  /** Called once when a run ends, finished, aborted or failed, with its figures. */
  onFinish?: (result: ChatRunResult) => void;
}

/** What the pipeline fills in where a factory left it out. */
export interface ResourceDefaults {
  client: OpenAI;
  model: string;
  idleTimeout?: number;
  streamUsage?: boolean;
}

/** Options of one call of a resource. */
export interface ResourceCallOptions {
  /** Aborts the upstream request. */
  signal?: AbortSignal;
  /** Called once when this run ends, besides the resource's own `onFinish`. */
  onFinish?: (result: ChatRunResult) => void;
}

/**
 * Base of the objects a factory returns: something that turns a conversation into text
 * chunks. Subclass it to serve another OpenAI API through `@ChatResource()`.
 */
export abstract class OpenAIResource {
  private _client?: OpenAI;
  private _model?: string;
  private _idleTimeout?: number;
  private _streamUsage?: boolean;
  /** The resource's own `onFinish`. */
  protected readonly onFinish?: (result: ChatRunResult) => void;

  protected constructor(options: OpenAIResourceOptions = {}) {
    this._client = options.client;
    this._model = options.model;
    this._idleTimeout = options.idleTimeout;
    this._streamUsage = options.streamUsage;
    this.onFinish = options.onFinish;
  }

  /** The client this resource calls. */
  get client(): OpenAI {
    if (!this._client) {
      throw new Error(NO_CLIENT);
    }
    return this._client;
  }

  /** Whether the resource has a client yet (its own, or the module's once bound). */
  get hasClient(): boolean {
    return this._client !== undefined;
  }

  /** The model this resource asks, if one is known yet. */
  get model(): string | undefined {
    return this._model;
  }

  /** Milliseconds a stream may go without a chunk (0 or absent: no limit). */
  get idleTimeout(): number | undefined {
    return this._idleTimeout;
  }

  /** Whether streams ask the upstream for token usage. */
  get streamUsage(): boolean {
    return this._streamUsage ?? true;
  }

  /**
   * Fills in the client and model the factory left out; the pipeline calls it with the
   * module's. Returns the resource itself.
   */
  withDefaults(defaults: ResourceDefaults): this {
    this._client ??= defaults.client;
    this._model ??= defaults.model;
    this._idleTimeout ??= defaults.idleTimeout;
    this._streamUsage ??= defaults.streamUsage;
    return this;
  }

  /**
   * Streams the reply to `messages` as text chunks. Unsubscribing aborts the upstream request.
   */
  abstract stream(messages: readonly ChatMessage[], options?: ResourceCallOptions): Observable<string>;

  /** Asks for the whole reply at once (what `@UseCompletion()` injects). */
  abstract call(messages: readonly ChatMessage[], options?: ResourceCallOptions): Promise<ChatCompletion>;
}

/** True for anything the pipeline can stream. */
export function isOpenAIResource(value: unknown): value is OpenAIResource {
  return value instanceof OpenAIResource;
}
