import {
  Inject,
  Injectable,
  Logger,
  Optional,
  ServiceUnavailableException,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Observable, Subject, finalize } from 'rxjs';
import type { LanarkyOpenAIModuleOptions } from '../interfaces/lanarky-openai-options.interface';
import { DEFAULT_SHUTDOWN_GRACE_PERIOD } from '../lanarky-openai.constants';
import { LANARKY_OPENAI_OPTIONS } from '../lanarky-openai.module-definition';
import { SHUTDOWN_STARTED, SHUTTING_DOWN } from '../lanarky-openai.messages';

/**
 * Knows the streams in flight, for a graceful shutdown: when the app closes, the server stops
 * accepting connections, streams get up to `shutdownGracePeriod` to finish, and the rest end
 * with a 503 error event (their upstream requests aborted as they unsubscribe).
 */
@Injectable()
export class ChatStreamTracker implements BeforeApplicationShutdown {
  private readonly logger = new Logger('LanarkyOpenAI');
  private readonly expired$ = new Subject<void>();
  private readonly drained$ = new Subject<void>();
  private active = 0;

  constructor(
    @Inject(LANARKY_OPENAI_OPTIONS) private readonly options: LanarkyOpenAIModuleOptions,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  /** Follows `chunks`, counted as in flight, until the shutdown's grace period runs out. */
  track<T>(chunks: Observable<T>): Observable<T> {
    return new Observable<T>((subscriber) => {
      this.active++;
      const expiry = this.expired$.subscribe(() => subscriber.error(new ServiceUnavailableException(SHUTTING_DOWN)));
      const subscription = chunks.subscribe(subscriber);
      return () => {
        expiry.unsubscribe();
        subscription.unsubscribe();
      };
    }).pipe(
      finalize(() => {
        if (--this.active === 0) {
          this.drained$.next();
        }
      }),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    // No new connections from now on; the ones streaming go on for the grace period.
    this.adapterHost?.httpAdapter?.getHttpServer()?.close?.();
    const grace = this.options.shutdownGracePeriod ?? DEFAULT_SHUTDOWN_GRACE_PERIOD;
    if (this.active > 0) {
      this.logger.log(SHUTDOWN_STARTED(this.active, grace));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, grace);
        this.drained$.subscribe(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.expired$.next();
  }
}
