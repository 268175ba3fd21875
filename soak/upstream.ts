import { MockOpenAIServer, type RecordedRequest } from '@lanarky/openai/testing';
import { planFromPrompt } from './plan';

/** What the upstream saw of the soak's streams, all phases together. */
export interface UpstreamCounts {
  requests: number;
  completed: number;
  /** Replies whose client (the server under test) went away before the end. */
  aborted: number;
  /** Requests that carried no soak tag (answered with the mock's default reply). */
  untagged: number;
}

/** How an upstream request ended: answered to the end, or dropped by its client (the server under test). */
export type UpstreamFate = 'open' | 'completed' | 'aborted';

/**
 * The soak's upstream: `MockOpenAIServer`, choosing each reply from the request's last user
 * message. The mock emits 'request' right before it takes the next queued reply, in the same
 * turn of the event loop, so queueing the stream's reply there serves it to that very request.
 */
export class SoakUpstream {
  readonly counts: UpstreamCounts = { requests: 0, completed: 0, aborted: 0, untagged: 0 };
  /** How each stream's last upstream request ended, by `phase:index`; 'open' also stays for deliberate resets. */
  readonly fates = new Map<string, UpstreamFate>();
  private readonly keys = new WeakMap<RecordedRequest, string>();

  private constructor(readonly mock: MockOpenAIServer) {
    mock.on('request', (record: RecordedRequest) => {
      this.counts.requests++;
      const plan = planFromPrompt(lastUserText(record.body));
      if (plan) {
        const key = `${plan.phase}:${plan.index}`;
        this.keys.set(record, key);
        this.fates.set(key, 'open');
      } else {
        this.counts.untagged++;
      }
      mock.enqueueReply(plan?.reply ?? {});
      // The mock keeps every request for tests; a soak only needs the counts.
      mock.requests.length = 0;
    });
    mock.on('complete', (record: RecordedRequest) => {
      this.counts.completed++;
      this.settle(record, 'completed');
    });
    mock.on('abort', (record: RecordedRequest) => {
      this.counts.aborted++;
      this.settle(record, 'aborted');
    });
  }

  private settle(record: RecordedRequest, fate: UpstreamFate) {
    const key = this.keys.get(record);
    if (key) this.fates.set(key, fate);
  }

  static async start(): Promise<SoakUpstream> {
    return new SoakUpstream(await MockOpenAIServer.start());
  }

  get url(): string {
    return this.mock.url;
  }

  /** Requests being answered right now (the mock's open connections). */
  get open(): number {
    return this.mock.openConnections;
  }

  /** Resolves with the open count once it is 0, or with what is left after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<number> {
    await this.mock.waitFor(() => this.open === 0, timeoutMs).catch(() => undefined);
    return this.open;
  }

  close(): Promise<void> {
    return this.mock.close();
  }
}

function lastUserText(body: any): string {
  const messages: any[] = Array.isArray(body?.messages) ? body.messages : [];
  const user = [...messages].reverse().find((message) => message?.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}
