/**
 * `npm run bench [-- --quick]`: the streaming overhead of the library against its upstream, side by
 * side in one run. Forks the upstream (MockOpenAIServer), a fresh bench app per server target and
 * repetition, and the load generator; talks to 127.0.0.1 only; kills them all at the end.
 */
import { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Child, PeakRss, listenOverflows } from './children';
import { TARGETS, TARGET_LABELS, type RunOutcome, type RunPlan, type Target } from './protocol';
import { checkTargets, resultsTable, summarise, targetsTable, type MetricKey, type RunRecord } from './report';
import { benchConfig, type BenchConfig, type Scenario } from './scenarios';
import { median, percentile, round } from './stats';

interface CliOptions {
  quick?: boolean;
  reps?: number;
  scenarios: string;
  targets: string;
  cpuProf?: string;
  save: boolean;
}

type ServerTarget = Exclude<Target, 'direct'>;
type Servers = Record<ServerTarget, Child>;

// Compiled to dist/bench/bench/run.js: the repository is three levels up.
const ROOT = resolve(__dirname, '../../..');
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const READER = 'http.request + eventsource-parser (SSE), the ws package (websocket); one forked process';
const IPC_TIMEOUT_MS = 10_000;
/** The scenarios whose server peak RSS is reported. */
const RSS_SCENARIOS = new Set<Scenario['key']>(['c', 'd']);
const START_TIMEOUT_MS = 30_000;

const script = (name: string) => join(__dirname, `${name}.process.js`);
const log = (line: string) => process.stdout.write(`${line}\n`);
// The children load the compiled library through the repository's path mapping, rebased on the build.
const CHILD_ENV = { TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), TS_NODE_BASEURL: resolve(__dirname, '..') };

async function main(options: CliOptions): Promise<number> {
  const startedAt = performance.now();
  const config = benchConfig(Boolean(options.quick), options.reps);
  const scenarios = config.scenarios.filter((scenario) => options.scenarios.includes(scenario.key));
  const machine = machineFacts();
  log(`bench: ${config.quick ? 'quick' : 'full'} run, ${config.repetitions} repetition(s), scenarios ${scenarios.map((s) => s.key).join('')}`);
  log(`machine: ${machine.cpus} CPU(s), ${machine.cpuModel}, Node ${machine.node}, Linux ${machine.kernel}`);
  log(`reader: ${READER}`);
  if (machine.loadAverage > 0.5) {
    log(`warning: load average ${machine.loadAverage} before the bench started: other work on this machine skews the figures`);
  }

  process.chdir(ROOT);
  const upstream = await Child.start('upstream', script('upstream'), { env: CHILD_ENV, readyTimeoutMs: START_TIMEOUT_MS });
  const loadgen = await Child.start('load generator', script('loadgen'), { env: CHILD_ENV, readyTimeoutMs: START_TIMEOUT_MS });
  const records: RunRecord[] = [];
  let warmupErrors = 0;
  for (let rep = 0; rep < config.repetitions; rep++) {
    const phase = performance.now();
    const servers = await startServers(upstream.origin);
    try {
      const started = performance.now();
      warmupErrors += await warmUp(config, upstream, loadgen, servers);
      const pids = Object.entries(servers).map(([target, server]) => `${target} ${server.pid}`).join(', ');
      log(
        `rep ${rep + 1}/${config.repetitions}: servers (pids ${pids}) up in ${((started - phase) / 1000).toFixed(1)} s, ` +
          `warmed up in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      if (options.cpuProf) {
        await Promise.all(Object.values(servers).map((server) => server.request({ type: 'profile', action: 'start' }, IPC_TIMEOUT_MS)));
      }
      // The paced scenarios first: their peak RSS then starts from a warmed-up app, not from the
      // heap that the 2,000-chunk bursts of (a) grew (V8 keeps it after a collection).
      const due = scenarios.filter((s) => rep < (s.repetitions ?? Infinity));
      for (const scenario of [...due.filter((s) => RSS_SCENARIOS.has(s.key)), ...due.filter((s) => !RSS_SCENARIOS.has(s.key))]) {
        await upstream.request({ type: 'reply', reply: scenario.reply }, IPC_TIMEOUT_MS);
        // Rotated each repetition, so no target always runs first (or right after the heaviest).
        const order = TARGETS.map((_, i) => TARGETS[(i + rep) % TARGETS.length]).filter((target) =>
          options.targets.split(',').includes(target),
        );
        for (const [position, target] of order.entries()) {
          const runStart = performance.now();
          const record = await measure({ rep, scenario, target, position, upstream, loadgen, servers });
          records.push(record);
          const seconds = ((performance.now() - runStart) / 1000).toFixed(1);
          log(`rep ${rep + 1}/${config.repetitions} (${scenario.key}) ${TARGET_LABELS[target].padEnd(18)} ${seconds.padStart(5)} s  ${describe(record)}`);
        }
      }
      if (options.cpuProf) {
        mkdirSync(options.cpuProf, { recursive: true });
        for (const [target, server] of Object.entries(servers)) {
          const file = resolve(options.cpuProf, `${target}-rep${rep + 1}.cpuprofile`);
          await server.request({ type: 'profile', action: 'stop', file }, 60_000);
          log(`profile: ${file}`);
        }
      }
    } finally {
      await Promise.all(Object.values(servers).map((server) => server.stop()));
    }
  }
  await Promise.all([upstream.stop(), loadgen.stop()]);

  const summary = summarise(records);
  const targets = checkTargets(summary);
  const failures = records.filter((record) => (record.metrics.errors ?? 0) > 0);
  const wallSeconds = round((performance.now() - startedAt) / 1000);
  log('');
  scenarios.forEach((scenario) => log(`(${scenario.key}) ${scenario.title}`));
  log('');
  log(resultsTable(summary, scenarios));
  log('');
  log(targetsTable(targets));
  log('');
  const counts = scenarios.map((s) => `(${s.key}) ${Math.min(config.repetitions, s.repetitions ?? Infinity)}`).join(', ');
  log(`medians over repetitions: ${counts}; bench wall time ${wallSeconds} s (plus compilation)`);

  if (options.save) {
    const file = save({ config, scenarios, machine, summary, targets, records, wallSeconds });
    log(`results: ${file}`);
  }
  if (failures.length > 0 || warmupErrors > 0) {
    log(`INTEGRITY FAILURE: ${warmupErrors} warm-up stream(s) and ${failures.length} run(s) had failed or mismatched streams`);
    failures.forEach((record) => log(`  (${record.scenario}) ${record.target}: ${record.errorSamples.join('; ')}`));
    return 1;
  }
  return 0;
}

/** A fresh bench app per server target: each target's memory and CPU are its own, from the same baseline. */
async function startServers(upstreamOrigin: string): Promise<Servers> {
  const start = (target: ServerTarget) =>
    Child.start(`server (${target})`, script('server'), {
      env: { ...CHILD_ENV, BENCH_UPSTREAM_URL: `${upstreamOrigin}/v1` },
      // Each run starts from a collected heap, so the scenarios before it do not weigh on its peak RSS.
      execArgv: ['--expose-gc'],
      readyTimeoutMs: START_TIMEOUT_MS,
    });
  const [hand, sse, ws] = await Promise.all([start('hand'), start('sse'), start('ws')]);
  return { hand, sse, ws };
}

/** Unmeasured streams through every target (JIT, connection pools), both reused and fresh connections. */
async function warmUp(config: BenchConfig, upstream: Child, loadgen: Child, servers: Servers): Promise<number> {
  const { reply, streams, concurrency } = config.warmup;
  await upstream.request({ type: 'reply', reply }, IPC_TIMEOUT_MS);
  let errors = 0;
  for (const target of TARGETS) {
    for (const connection of ['reuse', 'fresh'] as const) {
      const plan: RunPlan = {
        target,
        origin: target === 'direct' ? upstream.origin : servers[target].origin,
        reply,
        streams,
        concurrency,
        connection,
        prime: 0,
        rampMs: 0,
        streamTimeoutMs: 30_000,
      };
      const { outcome } = await loadgen.request({ type: 'run', plan }, 120_000);
      if (outcome!.errors > 0) log(`warm-up ${target}: ${outcome!.errors} failed stream(s): ${outcome!.errorSamples.join('; ')}`);
      errors += outcome!.errors;
    }
  }
  return errors;
}

interface MeasureContext {
  rep: number;
  scenario: Scenario;
  target: Target;
  position: number;
  upstream: Child;
  loadgen: Child;
  servers: Servers;
}

/** One scenario against one target: the load generator's figures, the server's CPU time and peak RSS. */
async function measure({ rep, scenario, target, position, upstream, loadgen, servers }: MeasureContext): Promise<RunRecord> {
  const server = target === 'direct' ? undefined : servers[target];
  const plan: RunPlan = { target, origin: server?.origin ?? upstream.origin, reply: scenario.reply, ...scenario.plan };
  const rounds = Math.ceil(plan.streams / plan.concurrency) + plan.prime;
  const abortsBefore = (await upstream.request({ type: 'stats' }, IPC_TIMEOUT_MS)).stats!.aborted ?? 0;
  const cpuBefore = server && (await server.request({ type: 'stats', gc: true }, IPC_TIMEOUT_MS)).stats!.cpu;
  const overflowsBefore = listenOverflows();
  const peak = server && PeakRss.start(server.pid);
  const { outcome } = await loadgen.request({ type: 'run', plan }, rounds * plan.streamTimeoutMs + 30_000);
  const peakBytes = peak?.stop();
  const overflows = listenOverflows() - overflowsBefore;
  const cpuAfter = server && (await server.request({ type: 'stats' }, IPC_TIMEOUT_MS)).stats!.cpu;
  const abortsAfter = (await upstream.request({ type: 'stats' }, IPC_TIMEOUT_MS)).stats!.aborted ?? 0;

  const metrics = scenarioMetrics(scenario, outcome!);
  if (cpuBefore && cpuAfter) {
    // Every event the server relayed in the interval, priming streams included.
    const events = (plan.streams + plan.prime * plan.concurrency) * scenario.reply.chunkCount;
    const systemUs = cpuAfter.system - cpuBefore.system;
    const cpuUs = cpuAfter.user - cpuBefore.user + systemUs;
    metrics.serverCpuUsPerEvent = round(cpuUs / events);
    metrics.serverKernelPct = round((100 * systemUs) / cpuUs);
  }
  if (peak && peakBytes !== undefined && RSS_SCENARIOS.has(scenario.key)) {
    metrics.startRssMiB = round(peak.startBytes / 2 ** 20);
    metrics.peakRssMiB = round(peakBytes / 2 ** 20);
  }
  return {
    rep,
    scenario: scenario.key,
    target,
    position,
    metrics,
    errorSamples: outcome!.errorSamples,
    upstreamAborts: abortsAfter - abortsBefore,
    listenOverflows: overflows,
  };
}

/** The figures each scenario reports, from the streams of one run. */
function scenarioMetrics(scenario: Scenario, outcome: RunOutcome): Partial<Record<MetricKey, number>> {
  const metrics: Partial<Record<MetricKey, number>> = { errors: outcome.errors };
  if (scenario.key === 'a') {
    metrics.eventsPerSec = round(median(outcome.events.map((events, i) => (events * 1000) / outcome.durationsMs[i])));
  } else if (scenario.key === 'b') {
    metrics.ttfeP50Ms = round(percentile(outcome.ttfeMs, 50));
    metrics.ttfeP99Ms = round(percentile(outcome.ttfeMs, 99));
  } else {
    metrics.totalMs = round(outcome.totalMs);
    metrics.streamP50Ms = round(percentile(outcome.durationsMs, 50));
    metrics.streamP99Ms = round(percentile(outcome.durationsMs, 99));
  }
  return metrics;
}

function describe({ metrics, upstreamAborts, listenOverflows: overflows }: RunRecord): string {
  const parts = Object.entries(metrics).map(([key, value]) => `${key} ${value}`);
  if (upstreamAborts) parts.push(`upstream aborts ${upstreamAborts}`);
  if (overflows) parts.push(`listen overflows ${overflows}`);
  return parts.join(', ');
}

interface MachineFacts {
  /** The 1-minute load average when the bench started: other work on the machine skews every figure. */
  loadAverage: number;
  cpus: number;
  cpuModel: string;
  node: string;
  kernel: string;
  memoryGiB: number;
}

function machineFacts(): MachineFacts {
  let cpuModel = 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // Not Linux: the model stays unknown.
  }
  return { loadAverage: round(loadavg()[0]), cpus: availableParallelism(), cpuModel, node: process.version, kernel: release(), memoryGiB: round(totalmem() / 2 ** 30) };
}

interface SavedRun {
  config: BenchConfig;
  scenarios: Scenario[];
  machine: MachineFacts;
  summary: ReturnType<typeof summarise>;
  targets: ReturnType<typeof checkTargets>;
  records: RunRecord[];
  wallSeconds: number;
}

/** bench/results/<timestamp>.json and latest.json; a quick run's file is a git-ignored .tmp.json. */
function save({ config, scenarios, machine, summary, targets, records, wallSeconds }: SavedRun): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const date = new Date().toISOString();
  const head = {
    date,
    kind: config.quick ? 'quick' : 'full',
    machine,
    reader: READER,
    repetitions: config.repetitions,
    wallSeconds,
    scenarios: scenarios.map(({ key, title, reply, plan, repetitions }) => ({
      key,
      title,
      reply,
      ...plan,
      repetitions: Math.min(config.repetitions, repetitions ?? Infinity),
    })),
    summary,
    targets,
  };
  const runs = records.map(({ rep, scenario, target, position, metrics, upstreamAborts, listenOverflows: overflows, errorSamples }) => ({
    rep,
    scenario,
    target,
    position,
    ...metrics,
    ...(upstreamAborts ? { upstreamAborts } : {}),
    ...(overflows ? { listenOverflows: overflows } : {}),
    ...(errorSamples.length ? { errorSamples } : {}),
  }));
  // One line a run keeps the file short and its diffs readable.
  const json = JSON.stringify(head, null, 1).replace(
    /\n}$/,
    () => `,\n "runs": [\n${runs.map((run) => `  ${JSON.stringify(run)}`).join(',\n')}\n ]\n}`,
  );
  const stamp = date.replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, config.quick ? `${stamp}.quick.tmp.json` : `${stamp}.json`);
  writeFileSync(file, `${json}\n`);
  if (!config.quick) writeFileSync(join(RESULTS_DIR, 'latest.json'), `${json}\n`);
  return file;
}

const program = new Command('bench')
  .description('Streaming overhead of @lanarky/openai against its upstream and a hand-written controller')
  .option('--quick', 'a short run: one repetition, fewer streams in (a) and (d); results go to a .tmp.json')
  .option('--reps <n>', 'repetitions (default 3, of which (d) runs in 2; quick 1)', (value) => Number.parseInt(value, 10))
  .option('--scenarios <keys>', 'only these scenarios, e.g. "ab"', 'abcd')
  .option('--targets <list>', 'only these targets, of direct,hand,sse,ws', TARGETS.join(','))
  .option('--cpu-prof <dir>', "profile the bench apps' measured runs (V8's CPU profiler, as node --cpu-prof), into <dir>")
  .option('--no-save', 'write no results file')
  .parse();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    Child.killAll();
    process.exit(130);
  });
}
process.once('exit', () => Child.killAll());

const deadline = benchConfig(Boolean(program.opts<CliOptions>().quick)).deadlineMs;
const timer = setTimeout(() => {
  log(`bench: still running after ${deadline / 1000} s, giving up`);
  Child.killAll();
  process.exit(2);
}, deadline);

main(program.opts<CliOptions>()).then(
  (code) => {
    clearTimeout(timer);
    process.exitCode = code;
  },
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
    Child.killAll();
    process.exit(1);
  },
);
