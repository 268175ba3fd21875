/**
 * `npm run soak [-- --streams 1000 | --quick] [--concurrency 150] [--seed 1] [--deadline 180]`
 *
 * Boots the demo (soak/server.ts, its own process, --expose-gc) against a content-driven mock
 * upstream (soak/upstream.ts, in this process), drives streams through it from a separate load
 * process (soak/load.ts), then checks that the pipeline came out of it whole. See soak/README.md.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import { ask, forkTs, type ServerHealth } from './ipc';
import type { PhaseRequest, PhaseResult } from './load';
import { planStream } from './plan';
import { MiB, mib, summary, writeReport, type Check, type SoakReport } from './report';
import { SoakUpstream } from './upstream';

const RESULTS = join(__dirname, 'results');
const HEAP_TOLERANCE = 10 * MiB;

const { values } = parseArgs({
  options: {
    streams: { type: 'string' },
    quick: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '150' },
    seed: { type: 'string', default: '1' },
    deadline: { type: 'string' },
  },
});
const streams = Number(values.streams ?? (values.quick ? 200 : 10_000));
const concurrency = Number(values.concurrency);
const seed = Number(values.seed);
const deadlineS = Number(values.deadline ?? (streams <= 1000 ? 60 : 180));
if (![streams, concurrency, seed, deadlineS].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('usage: npm run soak -- [--streams N | --quick] [--concurrency N] [--seed N] [--deadline seconds]');
  process.exit(2);
}
// Enough to warm every path (JIT, connection pools, lazy modules) before the heap baseline.
const warmupStreams = Math.max(200, Math.min(300, Math.round(streams / 30)));

const started = Date.now();
const elapsedS = () => (Date.now() - started) / 1000;
const log = (line: string) => console.log(`[soak ${elapsedS().toFixed(1).padStart(5)} s] ${line}`);

const report: SoakReport = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  options: { streams, concurrency, seed, deadlineS },
  wallTimeS: 0,
  checks: [],
  passed: false,
};
const children: ChildProcess[] = [];
let upstream: SoakUpstream | undefined;

function check(name: string, ok: boolean, detail: string): void {
  report.checks.push({ name, ok, detail });
}

function finish(code?: number): never {
  report.wallTimeS = elapsedS();
  report.passed = code === undefined && report.checks.length > 0 && report.checks.every((c) => c.ok);
  writeReport(join(RESULTS, 'latest.json'), report);
  console.log(`\n${summary(report)}\n\nJSON: soak/results/latest.json, server log: soak/results/server.log`);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  process.exit(code ?? (report.passed ? 0 : 1));
}

function waitForMessage(child: ChildProcess, type: string, timeoutMs: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${type}' from the child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: any) => {
      if (message?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`the child exited (${code}) before '${type}'`)));
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The first index of `phase` whose plan is a clean stream over `transport`. */
function cleanIndex(phase: string, transport: 'sse' | 'ws'): number {
  for (let index = 0; ; index++) {
    const plan = planStream(seed, phase, index);
    if (plan.transport === transport && !plan.fault && !plan.disconnect) return index;
  }
}

async function main() {
  const apiKey = `sk-soak-${randomBytes(12).toString('hex')}`;
  upstream = await SoakUpstream.start();
  log(`upstream ${upstream.url}; ${streams} streams, concurrency ${concurrency}, seed ${seed}, deadline ${deadlineS} s`);

  mkdirSync(RESULTS, { recursive: true });
  const serverLog = join(RESULTS, 'server.log');
  const fd = openSync(serverLog, 'w');
  const server = forkTs('server.ts', {
    execArgv: ['--expose-gc'],
    env: { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: apiKey, LANARKY_MODEL: '', NO_COLOR: '1' },
    logTo: fd,
  });
  closeSync(fd);
  children.push(server);
  const load = forkTs('load.ts');
  children.push(load);
  const [{ url }] = await Promise.all([waitForMessage(server, 'ready', 60_000), waitForMessage(load, 'ready', 60_000)]);
  log(`demo server ${url} (pid ${server.pid}), load generator pid ${load.pid}`);

  load.on('message', (message: any) => {
    if (message?.type === 'progress' && message.phase === 'main') {
      log(`main: ${message.done} / ${message.total} streams, upstream in flight ${upstream?.open}`);
    }
  });
  const phase = async (request: Omit<PhaseRequest, 'url' | 'seed' | 'concurrency' | 'streamTimeoutMs'> & { concurrency?: number }) => {
    const timeoutMs = Math.max(5_000, (deadlineS - elapsedS()) * 1000);
    const answer = await ask<{ result?: PhaseResult; error?: string }>(
      load,
      { type: 'run', url, seed, concurrency, streamTimeoutMs: 30_000, ...request },
      timeoutMs,
    );
    if (!answer.result) throw new Error(`load generator: ${answer.error}`);
    return answer.result;
  };
  const health = async () => {
    const answer = await ask<{ health?: ServerHealth; error?: string }>(server, { type: 'health' }, 15_000);
    if (!answer.health) throw new Error(`server health: ${answer.error}`);
    return answer.health;
  };

  // Warm-up, then the baseline: heap after GC with nothing in flight.
  report.warmup = await phase({ phase: 'warmup', from: 0, count: warmupStreams, budgetMs: 60_000 });
  log(`warm-up: ${report.warmup.streams} streams in ${(report.warmup.durationMs / 1000).toFixed(1)} s, ${report.warmup.failed} failed`);
  await upstream.drained(10_000);
  const baseline = await health();
  report.server = { baseline };
  log(`baseline heap ${mib(baseline.heapUsed)} MiB`);

  // The soak itself; it stops starting streams in time to leave the checks their share of the deadline.
  const budgetMs = Math.max(5_000, (deadlineS - elapsedS() - 20) * 1000);
  const driverCpu = process.cpuUsage();
  report.main = await phase({ phase: 'main', from: 0, count: streams, budgetMs });
  const { user, system } = process.cpuUsage(driverCpu);
  const driverCpuMs = Math.round((user + system) / 1000);
  log(`CPU during the load: load generator ${(report.main.loadCpuMs / 1000).toFixed(1)} s, driver and upstream ${((user + system) / 1e6).toFixed(1)} s`);
  log(`main: ${report.main.streams} streams in ${(report.main.durationMs / 1000).toFixed(1)} s, ${report.main.failed} failed`);

  // Afterwards: the upstream must see every request closed, the heap must come back, nothing unhandled.
  const openAfter = await upstream.drained(10_000);
  const disconnects = { aborted: 0, completed: 0, neverAsked: 0 };
  const byHow: Record<string, typeof disconnects> = {};
  for (let index = 0; index < streams; index++) {
    const { disconnect } = planStream(seed, 'main', index);
    if (!disconnect) continue;
    const fate = upstream.fates.get(`main:${index}`);
    const how = (byHow[`${disconnect.how}${disconnect.afterEvents ? '' : '@0'}`] ??= { aborted: 0, completed: 0, neverAsked: 0 });
    for (const tally of [disconnects, how]) {
      if (fate === 'aborted') tally.aborted++;
      else if (fate === 'completed') tally.completed++;
      else if (fate === undefined) tally.neverAsked++;
    }
  }
  report.upstream = { ...upstream.counts, openAfter, disconnects, disconnectsByKind: byHow, cpuMs: driverCpuMs };
  const after = await health();
  report.server.after = after;
  report.heap = {
    baselineMiB: mib(baseline.heapUsed),
    afterMiB: mib(after.heapUsed),
    deltaMiB: mib(after.heapUsed - baseline.heapUsed),
    rssBaselineMiB: mib(baseline.rss),
    rssAfterMiB: mib(after.rss),
  };

  // One more request per transport, which must come back whole.
  report.final = [
    await phase({ phase: 'final', from: cleanIndex('final', 'sse'), count: 1, budgetMs: 10_000, concurrency: 1 }),
    await phase({ phase: 'final', from: cleanIndex('final', 'ws'), count: 1, budgetMs: 10_000, concurrency: 1 }),
  ];

  const main = report.main;
  const faultsOk = Object.values(main.faults).every((tally) => tally.ok === tally.planned);
  const faultLine = Object.entries(main.faults)
    .map(([kind, tally]) => `${kind}: ${tally.ok}/${tally.planned}`)
    .join(', ');
  check('all streams ran', main.notStarted === 0 && main.streams === main.sse + main.ws, `${main.sse + main.ws} / ${main.streams} run, ${main.notStarted} not started before the deadline`);
  check('clean streams intact', main.clean.intact === main.clean.planned, `${main.clean.intact} / ${main.clean.planned} with every chunk as its own event, in order, and a proper end`);
  check('faults give the protocol error event', faultsOk, `${faultLine} with the right status_code and detail, after the intact prefix`);
  check('client disconnects', main.aborted.ok === main.aborted.planned, `${main.aborted.ok} / ${main.aborted.planned} got an intact prefix and nothing wrong before leaving`);
  check('warm-up streams', report.warmup.failed === 0, `${report.warmup.failed} of ${report.warmup.streams} failed`);
  check('upstream connections closed', openAfter === 0, `${openAfter} still open 10 s after the load`);
  check('no unhandled rejection or uncaught exception', after.unhandledRejections === 0 && after.uncaughtExceptions === 0,
    `${after.unhandledRejections} unhandled rejections, ${after.uncaughtExceptions} uncaught exceptions${after.failures.length ? `: ${after.failures.join('; ')}` : ''}`);
  check('heap after GC within 10 MiB of the baseline', after.heapUsed - baseline.heapUsed <= HEAP_TOLERANCE,
    `${mib(baseline.heapUsed)} → ${mib(after.heapUsed)} MiB (${mib(after.heapUsed - baseline.heapUsed)} MiB)`);
  check('the server still answers', report.final.every((result) => result.clean.intact === 1 && result.failed === 0),
    report.final.map((result) => `${result.sse ? 'SSE' : 'websocket'} ${result.failed ? `failed: ${result.failures.join('; ')}` : 'intact'}`).join(', '));

  // A clean shutdown, for the record: app.close(), then the process must be able to exit by itself.
  try {
    const { closedInMs } = await ask<{ closedInMs: number }>(server, { type: 'close' }, 10_000);
    report.server.closedInMs = closedInMs;
    report.server.exitedOnItsOwn = await exited(server, 5_000);
  } catch (error) {
    log(`server close: ${(error as Error).message}`);
  }
  load.disconnect();
  await upstream.close();

  const serverLogText = readFileSync(serverLog, 'utf8');
  report.server.logErrors = serverLogText.match(/ ERROR /g)?.length ?? 0;
  report.server.logWarnings = serverLogText.match(/ WARN /g)?.length ?? 0;
  check('the API key stays out of the logs', !serverLogText.includes(apiKey), `server log ${(serverLogText.length / 1024).toFixed(0)} KiB, key ${serverLogText.includes(apiKey) ? 'found' : 'absent'}`);
  check('within the deadline', elapsedS() <= deadlineS, `${elapsedS().toFixed(1)} s of ${deadlineS} s`);
  finish();
}

const watchdog = setTimeout(() => {
  log(`deadline of ${deadlineS} s passed`);
  check('within the deadline', false, `still running after ${deadlineS} s`);
  finish(1);
}, deadlineS * 1000);

main().catch((error: unknown) => {
  log(`aborted: ${error instanceof Error ? error.stack : String(error)}`);
  check('the soak ran to its end', false, error instanceof Error ? error.message : String(error));
  finish(1);
});
