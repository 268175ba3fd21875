import type { MockReply } from '@lanarky/openai/testing';

/**
 * What one soak stream does, derived only from (seed, phase, index): the load generator and the
 * upstream compute the same plan, so the upstream picks each reply from the request's content
 * and the client knows exactly what it must receive.
 */
export type Transport = 'sse' | 'ws';
export type FaultKind = '429' | '500' | '401' | 'reset';
/** How a client goes away: before its request is answered, after the headers, or after `afterEvents` events. */
export type DisconnectHow = 'early' | 'destroy' | 'close' | 'terminate';

/** The `error` event a fault must produce (PROTOCOL.md, "Errors: what the client sees"). */
export interface ExpectedError {
  status_code: number;
  detail: string;
}

export interface StreamPlan {
  phase: string;
  index: number;
  transport: Transport;
  /** The reply the upstream serves for this stream. */
  reply: MockReply;
  /** The completion events the client must get, in order: every chunk, or the chunks before a reset. */
  events: string[];
  fault?: FaultKind;
  error?: ExpectedError;
  disconnect?: { afterEvents: number; how: DisconnectHow };
}

export const EXPECTED_ERRORS: Record<FaultKind, ExpectedError> = {
  '429': { status_code: 429, detail: 'Rate limited by upstream' },
  '500': { status_code: 502, detail: 'Upstream error' },
  '401': { status_code: 502, detail: 'Upstream authentication failed' },
  reset: { status_code: 502, detail: 'Upstream connection lost' },
};

const FAULTS: FaultKind[] = ['429', '500', '401', 'reset'];

// Multi-byte characters, line breaks at both ends and inside, and text that looks like SSE fields.
const WORDS = [
  'Oh,', ' you', ' said', ' that', ' again', ' darling', ' naïve', ' café', ' 日本語の', ' テキスト',
  ' 🙂', ' 🚀🚀', ' Ωμέγα', ' ∑x²', ' line\nbreak', '\n', '\n\nnew paragraph', ' trailing\n', ' data: not a field',
  ' event: error', ' id: 7', ' : comment?', ' {"json": true}', ' tab\there', ' ü', ' ½', ' end.',
];

/** The first user message of a soak stream: the upstream reads its plan back from this tag. */
export function promptFor(seed: number, phase: string, index: number): string {
  return `[soak ${seed} ${phase} ${index}] Tell me something sassy.`;
}

const TAG = /\[soak (\d+) (\w+) (\d+)\]/;

/** The plan named by a prompt's tag, or undefined for a request that is not a soak stream. */
export function planFromPrompt(content: string): StreamPlan | undefined {
  const match = TAG.exec(content);
  return match ? planStream(Number(match[1]), match[2], Number(match[3])) : undefined;
}

/**
 * The plan of stream `index`: even indexes go over SSE, odd ones over websockets; in every block
 * of ten consecutive streams exactly one is faulted and three disconnect, at seeded positions.
 */
export function planStream(seed: number, phase: string, index: number): StreamPlan {
  const random = rng(hash(`${seed}:${phase}:${index}`));
  const transport: Transport = index % 2 === 0 ? 'sse' : 'ws';
  const slot = (index + hash(`${seed}:${phase}:block:${Math.floor(index / 10)}`)) % 10;

  const count = 1 + Math.floor(random() * 30);
  const chunks = Array.from({ length: count }, () => WORDS[Math.floor(random() * WORDS.length)]);
  const reply: MockReply = { chunks, delayMs: random() < 0.5 ? 0 : 1 + Math.floor(random() * 3) };
  if (random() < 0.15) {
    reply.fragmentBytes = 3 + Math.floor(random() * 20);
  }
  const plan: StreamPlan = { phase, index, transport, reply, events: chunks };

  if (slot === 0) {
    const fault = FAULTS[Math.floor(random() * FAULTS.length)];
    plan.fault = fault;
    plan.error = EXPECTED_ERRORS[fault];
    if (fault === 'reset') {
      reply.resetAfterChunks = Math.floor(random() * count);
      plan.events = chunks.slice(0, reply.resetAfterChunks);
    } else {
      reply.status = Number(fault);
      plan.events = [];
    }
  } else if (slot <= 3) {
    const early = count < 2 || random() < 0.2;
    const afterEvents = early ? 0 : 1 + Math.floor(random() * (count - 1));
    let how: DisconnectHow;
    if (transport === 'sse') {
      how = early && random() < 0.5 ? 'early' : 'destroy';
    } else {
      how = random() < 0.5 ? 'close' : 'terminate';
    }
    plan.disconnect = { afterEvents, how };
    // Slower replies, so that the upstream is usually still streaming when the client leaves.
    reply.delayMs = 5 + Math.floor(random() * 10);
  }
  return plan;
}

/** FNV-1a, 32 bits. */
export function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
