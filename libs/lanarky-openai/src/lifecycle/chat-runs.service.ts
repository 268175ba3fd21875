import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { ChatRunResult } from '../resources/chat-run';

/** A run as the pipeline reports it: the resource's figures, and where it ran. */
export interface ChatRunRecord extends ChatRunResult {
  /** `Class.method` of the endpoint's factory or handler. */
  handler: string;
  /** `sse` for `@ChatResource()` routes, `ws` for gateways, `http` for `@UseCompletion()`. */
  transport: 'sse' | 'ws' | 'http';
}

/**
 * Every chat run of the app's endpoints, as it ends (finished, aborted or failed), in one place:
 * inject it to log, meter or bill usage.
 *
 * @example
 * constructor(runs: ChatRuns) {
 *   runs.finished$.subscribe(({ handler, usage, aborted }) => this.meter.record(handler, usage?.total_tokens, aborted));
 * }
 */
@Injectable()
export class ChatRuns implements OnModuleDestroy {
  private readonly finished = new Subject<ChatRunRecord>();

  /** Emits each run when it ends. */
  readonly finished$: Observable<ChatRunRecord> = this.finished.asObservable();

  /** Reports a run; the pipeline calls it. */
  report(record: ChatRunRecord): void {
    this.finished.next(record);
  }

  onModuleDestroy(): void {
    this.finished.complete();
  }
}
