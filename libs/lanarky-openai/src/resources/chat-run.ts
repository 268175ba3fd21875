import type { CompletionUsage } from 'openai/resources/completions';
import { toChatError, type ChatErrorPayload } from '../events/chat-error';

/** How one resource run ended: reported once per run, finished, aborted or failed. */
export interface ChatRunResult {
  /** The upstream's finish reason (`stop`, `length`, `content_filter`, `tool_calls`...), null when none came. */
  finishReason: string | null;
  /** Token usage, when the upstream reported it (streams ask for it with `stream_options.include_usage`). */
  usage?: CompletionUsage;
  /** The model that answered, as the upstream named it. */
  model?: string;
  /** Milliseconds from the call to the first chunk of text, if one came. */
  firstChunkMs?: number;
  /** Milliseconds from the call to its end. */
  totalMs: number;
  /** Chunks of text delivered. */
  chunks: number;
  /** True when the caller went away (unsubscribed or aborted) before the end. */
  aborted: boolean;
  /** What the client was told, when the run failed. */
  error?: ChatErrorPayload;
}

/** Collects a run's figures as it goes; one counter and one clock read per chunk. */
export class ChatRun {
  finishReason: string | null = null;
  usage?: CompletionUsage;
  model?: string;
  private readonly started = performance.now();
  private firstChunkAt?: number;
  private chunks = 0;
  private ended = false;

  constructor(
    private readonly report: (result: ChatRunResult) => void,
    /** The credentials of the client that made the request, which an upstream message must not echo. */
    private readonly secrets: () => Iterable<string> = () => [],
  ) {}

  chunk(): void {
    this.chunks++;
    this.firstChunkAt ??= performance.now();
  }

  /** Reports the run once, however many ways it ends. */
  end(outcome: { aborted?: boolean; error?: unknown } = {}): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.report({
      finishReason: this.finishReason,
      usage: this.usage,
      model: this.model,
      firstChunkMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - this.started,
      totalMs: performance.now() - this.started,
      chunks: this.chunks,
      aborted: outcome.aborted ?? false,
      error: outcome.error === undefined ? undefined : toChatError(outcome.error, { secrets: this.secrets() }),
    });
  }
}
