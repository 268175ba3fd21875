/** What the bench's processes say to each other over their IPC channels. */

/** Where a stream is read from. */
export type Target = 'direct' | 'hand' | 'sse' | 'ws';

/** Every target, in the order the table shows them. */
export const TARGETS: readonly Target[] = ['direct', 'hand', 'sse', 'ws'];

/** What each target is, for tables and logs. */
export const TARGET_LABELS: Record<Target, string> = {
  direct: 'upstream-direct',
  hand: 'hand-written @Sse',
  sse: 'library SSE',
  ws: 'library websocket',
};

/** The bench app's routes, one app for every server target. */
export const ROUTES = { sse: '/chat', hand: '/hand', ws: '/ws', direct: '/v1/chat/completions' } as const;

/** The conversation every stream sends. */
export const USER_MESSAGE = { role: 'user', content: 'bench' } as const;
/** The system prompt the servers prepend (the direct reader sends it itself, as a server would). */
export const SYSTEM_PROMPT = 'You are a benchmark.';
/** The model name sent upstream. */
export const BENCH_MODEL = 'bench-model';

/** One load-generator run: `streams` streams over `concurrency` lanes, each checked against `expected`. */
export interface RunPlan {
  target: Target;
  /** 'http://127.0.0.1:<port>' of the server (or of the upstream for 'direct'). */
  origin: string;
  streams: number;
  concurrency: number;
  /** 'reuse': each lane keeps one connection (keep-alive / one socket); 'fresh': one connection per stream. */
  connection: 'reuse' | 'fresh';
  /** Unmeasured streams each lane runs first (opens its connection). */
  prime: number;
  /** Lanes start evenly spread over this many ms, as clients arrive, not as one SYN flood (0: all at once). */
  rampMs: number;
  /** What the upstream sends each stream: every stream must reassemble exactly its text. */
  reply: MockReplySpec;
  /** A stream still running after this is an error. */
  streamTimeoutMs: number;
}

/** What one run measured; times in ms, from `performance.now()` in the load generator. */
export interface RunOutcome {
  streams: number;
  ok: number;
  /** Streams that failed: status, error event, socket error, timeout, or text mismatch. */
  errors: number;
  /** Of those, streams whose text differed from what the upstream sent. */
  mismatches: number;
  /** A few error descriptions, for the log. */
  errorSamples: string[];
  /** From the first request to the last stream's end. */
  totalMs: number;
  /** Per measured stream: request start to last event. */
  durationsMs: number[];
  /** Per measured stream: request start to first text event. */
  ttfeMs: number[];
  /** Per measured stream: text events received. */
  events: number[];
}

/** Driver → child. */
export type Command =
  | { id: number; type: 'run'; plan: RunPlan }
  | { id: number; type: 'reply'; reply: MockReplySpec }
  | { id: number; type: 'stats'; gc?: boolean }
  | { id: number; type: 'profile'; action: 'start' | 'stop'; file?: string };

/** The part of `MockReply` the scenarios use. */
export interface MockReplySpec {
  chunkCount: number;
  delayMs?: number;
}

/** Child → driver. */
export type Answer =
  | { type: 'ready'; origin: string }
  | { id: number; type: 'done'; outcome?: RunOutcome; stats?: ChildStats; error?: string };

/** A child's own view of itself. */
export interface ChildStats {
  /** `process.cpuUsage()`, µs. */
  cpu: { user: number; system: number };
  rss: number;
  /** Upstream only: requests whose client went away early. */
  aborted?: number;
}
