/**
 * The soak's load generator, a process of its own: runs a phase's streams against the server
 * with bounded concurrency, half over SSE and half over websockets, and answers with what it saw.
 * Driven by soak/run.ts over the IPC channel; all traffic goes to 127.0.0.1.
 */
import { Agent } from 'node:http';
import { serve } from './ipc';
import { hash, planStream, rng, type DisconnectHow, type FaultKind, type StreamPlan } from './plan';
import { runSse, runWsSession, type StreamContext, type StreamOutcome } from './streams';

/** A phase to run: streams `from` .. `from + count - 1` of `phase`. */
export interface PhaseRequest {
  url: string;
  seed: number;
  phase: string;
  from: number;
  count: number;
  concurrency: number;
  streamTimeoutMs: number;
  /** Stop starting streams after this many ms (the run's deadline); unstarted streams count as failed. */
  budgetMs: number;
}

export interface FaultTally {
  planned: number;
  ok: number;
  /** Faults answered as a plain HTTP error instead of an error event. */
  plainHttp: number;
  /** `status_code`s received, by value. */
  statuses: Record<string, number>;
}

export interface PhaseResult {
  phase: string;
  streams: number;
  sse: number;
  ws: number;
  wsSockets: number;
  clean: { planned: number; intact: number };
  faults: Record<FaultKind, FaultTally>;
  aborted: { planned: number; ok: number; byHow: Record<DisconnectHow, number> };
  failed: number;
  /** The first failures, one line each. */
  failures: string[];
  notStarted: number;
  durationMs: number;
  /** CPU time of the load generator during the phase. */
  loadCpuMs: number;
  /** Time to the end of the intact streams. */
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** The slowest intact streams, for a look at where the time went. */
  slowest: string[];
}

type Job = { kind: 'sse'; plan: StreamPlan } | { kind: 'ws'; plans: StreamPlan[] };

/** SSE streams one job each; websocket streams grouped 1 to 5 a socket, a disconnect ending its socket. */
function jobsOf(request: PhaseRequest): Job[] {
  const jobs: Job[] = [];
  let session: StreamPlan[] = [];
  let sessionLength = 0;
  for (let index = request.from; index < request.from + request.count; index++) {
    const plan = planStream(request.seed, request.phase, index);
    if (plan.transport === 'sse') {
      jobs.push({ kind: 'sse', plan });
      continue;
    }
    if (!session.length) {
      sessionLength = 1 + Math.floor(rng(hash(`${request.seed}:${request.phase}:socket:${index}`))() * 5);
      jobs.push({ kind: 'ws', plans: session });
    }
    session.push(plan);
    if (plan.disconnect || session.length >= sessionLength) session = [];
  }
  return jobs;
}

async function runPhase(request: PhaseRequest): Promise<PhaseResult> {
  const started = Date.now();
  const cpu = process.cpuUsage();
  const agent = new Agent({ keepAlive: true, maxSockets: request.concurrency });
  const context: StreamContext = { url: request.url, seed: request.seed, agent, timeoutMs: request.streamTimeoutMs };
  const jobs = jobsOf(request);
  const outcomes: StreamOutcome[] = [];
  const unstarted: StreamPlan[] = [];
  let next = 0;
  let done = 0;
  const progress = setInterval(() => process.send?.({ type: 'progress', phase: request.phase, done, total: request.count }), 1000);

  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      const plans = job.kind === 'sse' ? [job.plan] : job.plans;
      if (Date.now() - started > request.budgetMs) {
        unstarted.push(...plans);
        continue;
      }
      const results = job.kind === 'sse' ? [await runSse(job.plan, context)] : await runWsSession(job.plans, context);
      outcomes.push(...results);
      done += results.length;
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, worker));
  clearInterval(progress);
  agent.destroy();
  const { user, system } = process.cpuUsage(cpu);
  return { ...tally(request, jobs, outcomes, unstarted, Date.now() - started), loadCpuMs: Math.round((user + system) / 1000) };
}

function tally(request: PhaseRequest, jobs: Job[], outcomes: StreamOutcome[], unstarted: StreamPlan[], durationMs: number): Omit<PhaseResult, 'loadCpuMs'> {
  const fault = (): FaultTally => ({ planned: 0, ok: 0, plainHttp: 0, statuses: {} });
  const result: Omit<PhaseResult, 'loadCpuMs'> = {
    phase: request.phase,
    streams: request.count,
    sse: 0,
    ws: 0,
    wsSockets: 0,
    clean: { planned: 0, intact: 0 },
    faults: { '429': fault(), '500': fault(), '401': fault(), reset: fault() },
    aborted: { planned: 0, ok: 0, byHow: { early: 0, destroy: 0, close: 0, terminate: 0 } },
    failed: unstarted.length,
    failures: unstarted.length ? [`${unstarted.length} streams not started before the deadline`] : [],
    notStarted: unstarted.length,
    durationMs,
    latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
    slowest: [],
  };
  result.wsSockets = jobs.filter((job) => job.kind === 'ws').length;
  const latencies: number[] = [];
  for (const outcome of outcomes) {
    const { plan } = outcome;
    result[plan.transport]++;
    if (plan.fault) {
      const tally = result.faults[plan.fault];
      tally.planned++;
      if (outcome.ok) tally.ok++;
      if (outcome.plainHttp) tally.plainHttp++;
      if (outcome.status !== undefined) tally.statuses[outcome.status] = (tally.statuses[outcome.status] ?? 0) + 1;
    } else if (plan.disconnect) {
      result.aborted.planned++;
      if (outcome.ok) {
        result.aborted.ok++;
        result.aborted.byHow[plan.disconnect.how]++;
      }
    } else {
      result.clean.planned++;
      if (outcome.ok) {
        result.clean.intact++;
        latencies.push(outcome.durationMs);
      }
    }
    if (!outcome.ok) {
      result.failed++;
      if (result.failures.length < 20) {
        const what = plan.fault ? `fault ${plan.fault}` : plan.disconnect ? `disconnect ${plan.disconnect.how}@${plan.disconnect.afterEvents}` : 'clean';
        result.failures.push(`${plan.phase} #${plan.index} ${plan.transport} ${what}: ${outcome.failure}`);
      }
    }
  }
  result.slowest = outcomes
    .filter((outcome) => outcome.ok && !outcome.plan.fault && !outcome.plan.disconnect)
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, 5)
    .map(({ plan, durationMs, firstEventMs, timings }) =>
      `${plan.phase} #${plan.index} ${plan.transport}, ${plan.events.length} chunks ${plan.reply.delayMs} ms apart: ${timings ? `${timings}, ` : ''}first event after ${firstEventMs} ms, end after ${durationMs} ms`);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  result.latencyMs = { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: latencies[latencies.length - 1] ?? 0 };
  return result;
}

process.on('unhandledRejection', (reason) => {
  console.error('[soak load] unhandled rejection:', reason);
  process.exitCode = 1;
});

serve(async (message: { type: string } & PhaseRequest) => {
  if (message.type !== 'run') throw new Error(`unknown request ${message.type}`);
  return { result: await runPhase(message) };
});
process.send?.({ type: 'ready' });
