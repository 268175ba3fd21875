import { BadRequestException, type MessageEvent } from '@nestjs/common';
import { APIConnectionError, AuthenticationError } from 'openai';
import { Observable, Subject, concat, from, of, throwError, type Subscription } from 'rxjs';
import { toChatEvents, toSseEvents } from './chat-event.operators';
import type { ChatEvent } from './chat-event';

/** Subscribes and records every notification, in order. */
function record<T>(source: Observable<T>) {
  const values: T[] = [];
  const state = { completed: false, error: undefined as unknown };
  const subscription = source.subscribe({
    next: (value) => values.push(value),
    error: (error) => (state.error = error),
    complete: () => (state.completed = true),
  });
  return { values, state, subscription };
}

const authError = () => new AuthenticationError(401, { message: 'bad key sk-secret' }, undefined, new Headers());

describe('toChatEvents', () => {
  it('turns each chunk into one completion event, in order', () => {
    const { values, state } = record(from(['Hel', 'lo', '\n', ' world']).pipe(toChatEvents()));
    expect(values).toEqual<ChatEvent[]>([
      { event: 'completion', data: 'Hel' },
      { event: 'completion', data: 'lo' },
      { event: 'completion', data: '\n' },
      { event: 'completion', data: ' world' },
    ]);
    expect(state).toEqual({ completed: true, error: undefined });
  });

  it('an empty source completes with no event', () => {
    const { values, state } = record(of<string>().pipe(toChatEvents()));
    expect(values).toEqual([]);
    expect(state.completed).toBe(true);
  });

  it('an error becomes exactly one error event with the mapped payload, then completion', () => {
    const source = concat(of('a', 'b'), throwError(authError));
    const { values, state } = record(source.pipe(toChatEvents()));
    expect(values).toEqual<ChatEvent[]>([
      { event: 'completion', data: 'a' },
      { event: 'completion', data: 'b' },
      { event: 'error', data: { status_code: 502, detail: 'Upstream authentication failed' } },
    ]);
    expect(state).toEqual({ completed: true, error: undefined });
  });

  it('calls onError once with the error and the payload', () => {
    const error = new APIConnectionError({ cause: new Error('socket hang up') });
    const onError = jest.fn();
    const { values } = record(concat(of('x'), throwError(() => error)).pipe(toChatEvents({ onError })));
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(error, { status_code: 502, detail: 'Upstream connection lost' });
    expect(values[1]).toEqual({ event: 'error', data: { status_code: 502, detail: 'Upstream connection lost' } });
  });

  it('does not call onError when the stream succeeds', () => {
    const onError = jest.fn();
    record(of('x').pipe(toChatEvents({ onError })));
    expect(onError).not.toHaveBeenCalled();
  });
});

describe('toSseEvents', () => {
  it('turns each chunk into one completion MessageEvent, in order', () => {
    const { values, state } = record(from(['one', 'two', 'line1\nline2']).pipe(toSseEvents()));
    expect(values).toEqual<MessageEvent[]>([
      { type: 'completion', data: 'one' },
      { type: 'completion', data: 'two' },
      { type: 'completion', data: 'line1\nline2' },
    ]);
    expect(state).toEqual({ completed: true, error: undefined });
  });

  it('an error becomes exactly one error event with the mapped payload, then completion', () => {
    const onError = jest.fn();
    const error = new BadRequestException('stream must be a boolean');
    const { values, state } = record(concat(of('a'), throwError(() => error)).pipe(toSseEvents({ onError })));
    expect(values).toEqual<MessageEvent[]>([
      { type: 'completion', data: 'a' },
      { type: 'error', data: { status_code: 400, detail: 'stream must be a boolean' } },
    ]);
    expect(values.filter((event) => event.type === 'error')).toHaveLength(1);
    expect(state).toEqual({ completed: true, error: undefined });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(error, { status_code: 400, detail: 'stream must be a boolean' });
  });

  it('an unknown error becomes 500 Internal Server Error', () => {
    const { values } = record(throwError(() => new Error('factory bug')).pipe(toSseEvents()));
    expect(values).toEqual([{ type: 'error', data: { status_code: 500, detail: 'Internal Server Error' } }]);
  });

  describe('keep-alive', () => {
    let subscription: Subscription | undefined;

    beforeEach(() => jest.useFakeTimers());
    afterEach(() => {
      subscription?.unsubscribe();
      subscription = undefined;
      jest.useRealTimers();
    });

    it('starts no timer without keepAliveInterval', () => {
      const source = new Subject<string>();
      subscription = record(source.pipe(toSseEvents())).subscription;
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(100);
      subscription.unsubscribe();
    });

    it('sends { comment: "ping" } while the source is quiet', () => {
      const source = new Subject<string>();
      const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20 })));
      subscription = recorded.subscription;
      jest.advanceTimersByTime(19);
      expect(recorded.values).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(recorded.values).toEqual([{ comment: 'ping' }]);
      jest.advanceTimersByTime(40);
      expect(recorded.values).toEqual([{ comment: 'ping' }, { comment: 'ping' }, { comment: 'ping' }]);
      expect(recorded.state.completed).toBe(false);
    });

    it('sends no ping while chunks flow faster than the interval', () => {
      const source = new Subject<string>();
      const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20 })));
      subscription = recorded.subscription;
      for (let i = 0; i < 20; i++) {
        jest.advanceTimersByTime(10);
        source.next(`chunk ${i}`);
      }
      expect(recorded.values).toHaveLength(20);
      expect(recorded.values.every((event) => event.type === 'completion')).toBe(true);
    });

    it('resumes pings once chunks stop, after a whole quiet interval', () => {
      const source = new Subject<string>();
      const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20 })));
      subscription = recorded.subscription;
      jest.advanceTimersByTime(5);
      source.next('a');
      jest.advanceTimersByTime(15); // t=20: a chunk came during this interval
      expect(recorded.values).toEqual([{ type: 'completion', data: 'a' }]);
      jest.advanceTimersByTime(20); // t=40: a whole quiet interval
      expect(recorded.values).toEqual([{ type: 'completion', data: 'a' }, { comment: 'ping' }]);
    });

    it('clears its timer on unsubscribe', () => {
      const source = new Subject<string>();
      const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20 })));
      expect(jest.getTimerCount()).toBe(1);
      recorded.subscription.unsubscribe();
      expect(jest.getTimerCount()).toBe(0);
      expect(source.observed).toBe(false);
      jest.advanceTimersByTime(100);
      expect(recorded.values).toEqual([]);
    });

    it('clears its timer when the source completes', () => {
      const source = new Subject<string>();
      const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20 })));
      subscription = recorded.subscription;
      source.next('a');
      source.complete();
      expect(recorded.state.completed).toBe(true);
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(100);
      expect(recorded.values).toEqual([{ type: 'completion', data: 'a' }]);
    });

    it('clears its timer after an error event', () => {
      const source = new Subject<string>();
      const onError = jest.fn();
      const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20, onError })));
      subscription = recorded.subscription;
      source.error(authError());
      expect(recorded.values).toEqual([
        { type: 'error', data: { status_code: 502, detail: 'Upstream authentication failed' } },
      ]);
      expect(recorded.state).toEqual({ completed: true, error: undefined });
      expect(onError).toHaveBeenCalledTimes(1);
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  it('leaves no active timer behind with real timers', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const source = new Subject<string>();
    const recorded = record(source.pipe(toSseEvents({ keepAliveInterval: 20 })));
    expect(timers()).toBe(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 70));
    expect(recorded.values.length).toBeGreaterThanOrEqual(2);
    expect(recorded.values.every((event) => event.comment === 'ping')).toBe(true);
    // Counted synchronously around unsubscribe, so timers of other code cannot come or go in between.
    const during = timers();
    recorded.subscription.unsubscribe();
    expect(timers()).toBe(during - 1);
  });
});
