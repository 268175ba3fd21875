import { createParser } from 'eventsource-parser';
import { request, type Agent } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import { promptFor, type StreamPlan } from './plan';

/** How one stream went, from the client's side. */
export interface StreamOutcome {
  plan: StreamPlan;
  /** The stream did what its plan says (intact text, the right error, a clean end, or the planned disconnect). */
  ok: boolean;
  /** Why not, when not ok. */
  failure?: string;
  /** The `status_code` of the error event (or the plain HTTP status) the client got. */
  status?: number;
  /** The fault came as a plain HTTP error instead of an event (allowed before the first byte). */
  plainHttp?: boolean;
  durationMs: number;
  /** When the first event came, from the start of the stream. */
  firstEventMs?: number;
  /** SSE only: when the request got a socket, when it connected, when the headers came. */
  timings?: string;
}

export interface StreamContext {
  url: string;
  seed: number;
  agent: Agent;
  timeoutMs: number;
}

interface Received {
  completions: string[];
  errors: unknown[];
  /** Anything the protocol does not allow: unknown events, frames after the error or the end. */
  unexpected: string[];
  firstEventMs?: number;
  timings?: string;
}

/** Checks what a stream that ran to its end received against its plan. */
function judge(plan: StreamPlan, got: Received, started: number): StreamOutcome {
  const durationMs = Date.now() - started;
  const fail = (failure: string, status?: number): StreamOutcome => ({ plan, ok: false, failure, status, durationMs });
  const error = got.errors[0] as { status_code?: number; detail?: string } | undefined;
  if (got.unexpected.length) return fail(`unexpected: ${got.unexpected.slice(0, 3).join(' | ')}`, error?.status_code);
  if (plan.disconnect) {
    return fail(`ended after ${got.completions.length} events, before the planned disconnect after ${plan.disconnect.afterEvents}`);
  }
  if (got.errors.length > 1) return fail(`${got.errors.length} error events`, error?.status_code);
  if (!sameEvents(got.completions, plan.events)) {
    return fail(`completion events differ: got ${JSON.stringify(got.completions.join('')).slice(0, 200)}, want ${JSON.stringify(plan.events.join('')).slice(0, 200)} (${got.completions.length} vs ${plan.events.length} events)`, error?.status_code);
  }
  if (!plan.error) {
    return error ? fail(`unexpected error event ${JSON.stringify(error)}`, error.status_code) : { plan, ok: true, durationMs, firstEventMs: got.firstEventMs, timings: got.timings };
  }
  if (!error) return fail(`no error event (want ${plan.error.status_code})`);
  if (error.status_code !== plan.error.status_code || error.detail !== plan.error.detail) {
    return fail(`error event ${JSON.stringify(error)}, want ${JSON.stringify(plan.error)}`, error.status_code);
  }
  return { plan, ok: true, status: error.status_code, durationMs };
}

/** What a client that left on purpose received must still be a prefix of the reply. */
function judgeDisconnect(plan: StreamPlan, got: Received, started: number): StreamOutcome {
  const durationMs = Date.now() - started;
  const prefix = plan.events.slice(0, got.completions.length);
  if (got.unexpected.length || got.errors.length || !sameEvents(got.completions, prefix)) {
    const what = got.unexpected[0] ?? (got.errors.length ? `error event ${JSON.stringify(got.errors[0])}` : 'events that are not a prefix of the reply');
    return { plan, ok: false, failure: `before its disconnect the client got ${what}`, durationMs };
  }
  return { plan, ok: true, durationMs };
}

function sameEvents(got: string[], want: string[]): boolean {
  return got.length === want.length && got.every((event, index) => event === want[index]);
}

/** One stream over SSE: `POST /chat?stream=true`, parsed with eventsource-parser. */
export function runSse(plan: StreamPlan, context: StreamContext): Promise<StreamOutcome> {
  const started = Date.now();
  const body = JSON.stringify({ messages: [{ role: 'user', content: promptFor(context.seed, plan.phase, plan.index) }] });
  const got: Received = { completions: [], errors: [], unexpected: [] };
  const disconnect = plan.disconnect;

  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: StreamOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const leave = () => {
      req.destroy();
      finish(judgeDisconnect(plan, got, started));
    };
    const timer = setTimeout(() => {
      req.destroy();
      finish({ plan, ok: false, failure: `no end within ${context.timeoutMs} ms (${got.completions.length} events so far)`, durationMs: Date.now() - started });
    }, context.timeoutMs);

    const req = request(`${context.url}/chat?stream=true`, {
      method: 'POST',
      agent: context.agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    });
    req.on('error', (error) => finish({ plan, ok: false, failure: `request failed: ${error.message}`, durationMs: Date.now() - started }));
    const marks: string[] = [];
    const mark = (what: string) => marks.push(`${what} ${Date.now() - started}`);
    req.on('socket', (socket) => {
      mark('socket');
      if (socket.connecting) socket.once('connect', () => mark('connect'));
      else mark('reused');
    });
    req.on('response', (res) => {
      mark('headers');
      got.timings = marks.join(', ');
      if (disconnect?.how === 'destroy' && disconnect.afterEvents === 0) return leave();
      if (res.statusCode !== 200 || !res.headers['content-type']?.startsWith('text/event-stream')) {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (part: string) => (text += part));
        res.on('end', () => {
          const allowed = plan.error && !disconnect && res.statusCode === plan.error.status_code;
          finish(
            allowed
              ? { plan, ok: true, status: res.statusCode, plainHttp: true, durationMs: Date.now() - started }
              : { plan, ok: false, failure: `HTTP ${res.statusCode} ${text.slice(0, 200)}`, status: res.statusCode, durationMs: Date.now() - started },
          );
        });
        return;
      }
      const parser = createParser({
        onEvent: (event) => {
          got.firstEventMs ??= Date.now() - started;
          if (got.errors.length) {
            got.unexpected.push(`event '${event.event}' after the error event`);
          } else if (event.event === 'completion') {
            got.completions.push(event.data);
          } else if (event.event === 'error') {
            got.errors.push(parseJson(event.data));
          } else {
            got.unexpected.push(`event '${event.event}'`);
          }
          if (disconnect && got.completions.length >= disconnect.afterEvents) leave();
        },
      });
      res.setEncoding('utf8');
      res.on('data', (part: string) => {
        if (!done) parser.feed(part);
      });
      res.on('end', () => finish(judge(plan, got, started)));
      res.on('error', (error) => finish({ plan, ok: false, failure: `response failed after ${got.completions.length} events: ${error.message}`, durationMs: Date.now() - started }));
      res.on('aborted', () => finish({ plan, ok: false, failure: `response cut after ${got.completions.length} events`, durationMs: Date.now() - started }));
    });
    req.end(body);
    // Gone as soon as the request is on the wire: the server may or may not have called the upstream yet.
    if (disconnect?.how === 'early') req.once('finish', leave);
  });
}

/** A websocket to the demo's /ws, carrying one turn at a time and checking that nothing arrives between turns. */
export class SoakSocket {
  private onFrame?: (frame: { event?: string; data?: unknown }) => void;
  private onClose?: (code: number) => void;
  /** Frames that came while no turn was running. */
  readonly strays: string[] = [];
  closed = false;
  /** Set when the client walks away: what the server had already sent is not its business any more. */
  private left = false;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: RawData) => {
      if (this.left) return;
      const text = data.toString();
      const frame = parseJson(text) as { event?: string; data?: unknown };
      if (this.onFrame) this.onFrame(frame ?? {});
      else this.strays.push(text.slice(0, 120));
    });
    socket.on('close', (code: number) => {
      this.closed = true;
      this.onClose?.(code);
    });
    socket.on('error', () => undefined); // 'close' follows and says it all.
  }

  static open(url: string, timeoutMs: number): Promise<SoakSocket> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no websocket within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(new SoakSocket(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  /** One turn: sends the conversation and reads frames up to `end`, or leaves as the plan says. */
  turn(plan: StreamPlan, messages: unknown[], timeoutMs: number): Promise<StreamOutcome & { reply?: string }> {
    const started = Date.now();
    const got: Received = { completions: [], errors: [], unexpected: [] };
    const disconnect = plan.disconnect;
    return new Promise((resolve) => {
      const finish = (outcome: StreamOutcome & { reply?: string }) => {
        if (!this.onFrame) return;
        this.onFrame = undefined;
        this.onClose = undefined;
        clearTimeout(timer);
        resolve(outcome);
      };
      const leave = () => {
        this.left = true;
        if (disconnect?.how === 'terminate') this.socket.terminate();
        else this.socket.close(1000);
        finish(judgeDisconnect(plan, got, started));
      };
      const timer = setTimeout(() => {
        this.socket.terminate();
        finish({ plan, ok: false, failure: `no end frame within ${timeoutMs} ms (${got.completions.length} events so far)`, durationMs: Date.now() - started });
      }, timeoutMs);
      this.onFrame = (frame) => {
        got.firstEventMs ??= Date.now() - started;
        if (frame.event === 'end') {
          const outcome = judge(plan, got, started);
          return finish({ ...outcome, reply: got.completions.join('') });
        }
        if (got.errors.length) {
          got.unexpected.push(`frame '${frame.event}' after the error frame`);
        } else if (frame.event === 'completion' && typeof frame.data === 'string') {
          got.completions.push(frame.data);
        } else if (frame.event === 'error') {
          got.errors.push(frame.data);
        } else {
          got.unexpected.push(`frame ${JSON.stringify(frame).slice(0, 80)}`);
        }
        if (disconnect && got.completions.length >= disconnect.afterEvents) leave();
      };
      this.onClose = (code) =>
        finish({ plan, ok: false, failure: `socket closed (${code}) before the end frame, after ${got.completions.length} events`, durationMs: Date.now() - started });
      // Both of the protocol's turn formats: Lanarky's and Nest's.
      const frame = plan.index % 4 === 1 ? { messages } : { event: 'chat', data: { messages } };
      this.socket.send(JSON.stringify(frame));
      if (disconnect && disconnect.afterEvents === 0) leave();
    });
  }

  close(): void {
    if (!this.closed) this.socket.close(1000);
  }
}

/**
 * A run of websocket streams on one socket, turn after turn, each turn sending the whole history
 * as the protocol's clients do. A planned disconnect is the socket's last turn.
 */
export async function runWsSession(plans: StreamPlan[], context: StreamContext): Promise<StreamOutcome[]> {
  const outcomes: StreamOutcome[] = [];
  let socket: SoakSocket | undefined;
  let history: Array<{ role: string; content: string }> = [];
  for (const plan of plans) {
    const started = Date.now();
    try {
      socket ??= await SoakSocket.open(context.url, context.timeoutMs);
    } catch (error) {
      outcomes.push({ plan, ok: false, failure: `websocket failed to open: ${(error as Error).message}`, durationMs: Date.now() - started });
      continue;
    }
    const prompt = { role: 'user', content: promptFor(context.seed, plan.phase, plan.index) };
    const outcome = await socket.turn(plan, [...history, prompt], context.timeoutMs);
    const { reply, ...result } = outcome;
    outcomes.push(result);
    flagStrays(socket, outcomes);
    if (socket.closed || plan.disconnect) {
      socket = undefined;
      history = [];
    } else if (outcome.ok && !plan.error && reply !== undefined) {
      history.push(prompt, { role: 'assistant', content: reply });
    }
  }
  if (socket) {
    // A frame sent after the last turn's end would show up now.
    await new Promise((resolve) => setTimeout(resolve, 5));
    flagStrays(socket, outcomes);
    socket.close();
  }
  return outcomes;
}

/** Frames that arrived while no turn was running fail the turn before them. */
function flagStrays(socket: SoakSocket, outcomes: StreamOutcome[]): void {
  const last = outcomes[outcomes.length - 1];
  if (socket.strays.length && last) {
    last.ok = false;
    last.failure = `frames after its end: ${socket.strays.join(' | ')}`;
    socket.strays.length = 0;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
