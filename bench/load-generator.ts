import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { MockOpenAIServer } from '@lanarky/openai/testing';
import type WebSocket from 'ws';
import { BENCH_MODEL, ROUTES, SYSTEM_PROMPT, USER_MESSAGE, type RunOutcome, type RunPlan } from './protocol';
import {
  decodeLanarkyEvent,
  decodeOpenAIEvent,
  openSocket,
  readSse,
  readWsTurn,
  type SseRequest,
  type StreamResult,
} from './readers';

/** A client slot: runs its streams one after the other, over its own connection or a new one each. */
interface Lane {
  stream(): Promise<StreamResult>;
  close(): void;
}

const CHAT_BODY = JSON.stringify({ messages: [USER_MESSAGE] });
// The direct reader asks what a server would ask on its behalf: system prompt and all.
const UPSTREAM_BODY = JSON.stringify({
  model: BENCH_MODEL,
  messages: [{ role: 'system', content: SYSTEM_PROMPT }, USER_MESSAGE],
  stream: true,
});
const ERROR_SAMPLES = 5;

/** Runs a plan: primes each lane, then reads `streams` streams over `concurrency` lanes and checks each text. */
export async function runPlan(plan: RunPlan): Promise<RunOutcome> {
  const expected = MockOpenAIServer.expectedText(plan.reply);
  const { lanes, dispose } = createLanes(plan);
  const outcome: RunOutcome = {
    streams: plan.streams,
    ok: 0,
    errors: 0,
    mismatches: 0,
    errorSamples: [],
    totalMs: 0,
    durationsMs: [],
    ttfeMs: [],
    events: [],
  };
  const check = (result: StreamResult): boolean => {
    const error = result.error ?? (result.text === expected ? undefined : mismatch(result.text, expected));
    if (!error) return true;
    outcome.errors++;
    if (!result.error) outcome.mismatches++;
    if (outcome.errorSamples.length < ERROR_SAMPLES) outcome.errorSamples.push(error);
    return false;
  };
  try {
    // Priming failures count: a run with any failed stream fails.
    await Promise.all(
      lanes.map(async (lane) => {
        for (let i = 0; i < plan.prime; i++) check(await lane.stream());
      }),
    );
    let started = 0;
    const start = performance.now();
    await Promise.all(
      lanes.map(async (lane, index) => {
        if (plan.rampMs > 0) await sleep((index * plan.rampMs) / lanes.length - (performance.now() - start));
        while (started < plan.streams) {
          started++;
          const result = await lane.stream();
          if (check(result)) outcome.ok++;
          outcome.durationsMs.push(result.durationMs);
          outcome.ttfeMs.push(result.ttfeMs);
          outcome.events.push(result.events);
        }
      }),
    );
    outcome.totalMs = performance.now() - start;
  } finally {
    lanes.forEach((lane) => lane.close());
    dispose();
  }
  return outcome;
}

function createLanes(plan: RunPlan): { lanes: Lane[]; dispose: () => void } {
  const count = Math.max(1, plan.concurrency);
  if (plan.target === 'ws') {
    const url = `${plan.origin.replace(/^http/, 'ws')}${ROUTES.ws}`;
    const lanes = Array.from({ length: count }, () =>
      plan.connection === 'reuse' ? reusedSocketLane(url, plan.streamTimeoutMs) : freshSocketLane(url, plan.streamTimeoutMs),
    );
    return { lanes, dispose: () => undefined };
  }
  const port = Number(new URL(plan.origin).port);
  const agent = plan.connection === 'reuse' ? new Agent({ keepAlive: true, maxSockets: count }) : false;
  const direct = plan.target === 'direct';
  const request: SseRequest = {
    port,
    path: ROUTES[plan.target],
    body: direct ? UPSTREAM_BODY : CHAT_BODY,
    agent,
    decode: direct ? decodeOpenAIEvent : decodeLanarkyEvent,
    timeoutMs: plan.streamTimeoutMs,
  };
  const lanes = Array.from({ length: count }, (): Lane => ({ stream: () => readSse(request), close: () => undefined }));
  return { lanes, dispose: () => agent && agent.destroy() };
}

/** One socket for all of the lane's turns, opened by its first stream (the priming one), replaced after a failure. */
function reusedSocketLane(url: string, timeoutMs: number): Lane {
  let socket: WebSocket | undefined;
  return {
    async stream() {
      const start = performance.now();
      try {
        socket ??= await openSocket(url, timeoutMs);
      } catch (error) {
        return failed(start, `websocket open failed: ${(error as Error).message}`);
      }
      const result = await readWsTurn(socket, CHAT_BODY, start, timeoutMs);
      if (result.error) {
        socket.terminate();
        socket = undefined;
      }
      return result;
    },
    close: () => socket?.terminate(),
  };
}

/** A socket per stream, as a client that connects, asks once and leaves. */
function freshSocketLane(url: string, timeoutMs: number): Lane {
  return {
    async stream() {
      const start = performance.now();
      let socket: WebSocket;
      try {
        socket = await openSocket(url, timeoutMs);
      } catch (error) {
        return failed(start, `websocket open failed: ${(error as Error).message}`);
      }
      const result = await readWsTurn(socket, CHAT_BODY, start, timeoutMs);
      socket.close();
      return result;
    },
    close: () => undefined,
  };
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function failed(start: number, error: string): StreamResult {
  return { text: '', events: 0, ttfeMs: -1, durationMs: performance.now() - start, error };
}

function mismatch(text: string, expected: string): string {
  let at = 0;
  while (at < text.length && text[at] === expected[at]) at++;
  return `text mismatch at character ${at}: got ${text.length} characters, expected ${expected.length} (…${JSON.stringify(
    text.slice(at, at + 30),
  )} vs …${JSON.stringify(expected.slice(at, at + 30))})`;
}
