import type { Scenario } from './scenarios';
import { TARGETS, type Target } from './protocol';
import { median, round } from './stats';

/** What a run's figures are called. */
export type MetricKey =
  | 'eventsPerSec'
  | 'ttfeP50Ms'
  | 'ttfeP99Ms'
  | 'totalMs'
  | 'streamP50Ms'
  | 'streamP99Ms'
  | 'startRssMiB'
  | 'peakRssMiB'
  | 'serverCpuUsPerEvent'
  | 'serverKernelPct'
  | 'errors';

/** One measured run: one scenario against one target in one repetition. */
export interface RunRecord {
  rep: number;
  scenario: Scenario['key'];
  target: Target;
  /** Its place in the repetition's order of targets (they rotate). */
  position: number;
  metrics: Partial<Record<MetricKey, number>>;
  errorSamples: string[];
  /** Upstream requests whose client (the server, or the direct reader) left early. */
  upstreamAborts: number;
  /** Connections the kernel dropped during the run because a listen backlog was full (retried by TCP, slowly). */
  listenOverflows: number;
}

/** Medians over repetitions: scenario → target → metric. */
export type Summary = Record<string, Partial<Record<Target, Partial<Record<MetricKey, number>>>>>;

interface Row {
  scenario: Scenario['key'];
  metric: MetricKey;
  label: string;
  /** Whether a larger figure is better (a rate) or worse (a time, memory). */
  higherIsBetter: boolean;
}

const ROWS: Row[] = [
  { scenario: 'a', metric: 'eventsPerSec', label: 'events/s', higherIsBetter: true },
  { scenario: 'a', metric: 'serverCpuUsPerEvent', label: 'server CPU µs/event', higherIsBetter: false },
  { scenario: 'a', metric: 'serverKernelPct', label: 'server CPU in kernel %', higherIsBetter: false },
  { scenario: 'b', metric: 'ttfeP50Ms', label: 'first event p50 ms', higherIsBetter: false },
  { scenario: 'b', metric: 'ttfeP99Ms', label: 'first event p99 ms', higherIsBetter: false },
  ...(['c', 'd'] as const).flatMap((scenario): Row[] => [
    { scenario, metric: 'totalMs', label: 'total ms', higherIsBetter: false },
    { scenario, metric: 'streamP50Ms', label: 'stream p50 ms', higherIsBetter: false },
    { scenario, metric: 'streamP99Ms', label: 'stream p99 ms', higherIsBetter: false },
    { scenario, metric: 'startRssMiB', label: 'server RSS at start MiB', higherIsBetter: false },
    { scenario, metric: 'peakRssMiB', label: 'server peak RSS MiB', higherIsBetter: false },
    { scenario, metric: 'serverCpuUsPerEvent', label: 'server CPU µs/event', higherIsBetter: false },
    { scenario, metric: 'serverKernelPct', label: 'server CPU in kernel %', higherIsBetter: false },
    { scenario, metric: 'errors', label: 'errors', higherIsBetter: false },
  ]),
];

/** Medians of every metric over the repetitions. */
export function summarise(records: RunRecord[]): Summary {
  const summary: Summary = {};
  for (const record of records) {
    const byTarget = (summary[record.scenario] ??= {});
    byTarget[record.target] ??= {};
  }
  for (const [scenario, byTarget] of Object.entries(summary)) {
    for (const target of Object.keys(byTarget) as Target[]) {
      const runs = records.filter((record) => record.scenario === scenario && record.target === target);
      const metrics: Partial<Record<MetricKey, number>> = {};
      const keys = new Set(runs.flatMap((run) => Object.keys(run.metrics) as MetricKey[]));
      for (const key of keys) {
        const values = runs.map((run) => run.metrics[key]).filter((value): value is number => value !== undefined);
        // Errors add up; everything else is the median run.
        metrics[key] = key === 'errors' ? values.reduce((sum, value) => sum + value, 0) : round(median(values));
      }
      byTarget[target] = metrics;
    }
  }
  return summary;
}

/** `value / reference`, rounded; undefined when either is missing or the reference is 0. */
export function ratio(value: number | undefined, reference: number | undefined): number | undefined {
  if (value === undefined || reference === undefined || reference === 0 || !Number.isFinite(value / reference)) return undefined;
  return Number((value / reference).toFixed(2));
}

/** One target of the issue, checked against the summary. */
export interface TargetCheck {
  goal: string;
  actual: string;
  met: boolean;
}

/** The targets; "library ≥ 0.95× hand-written" reads as ≤ 1/0.95 for times and memory. */
export function checkTargets(summary: Summary): TargetCheck[] {
  const get = (scenario: string, target: Target, metric: MetricKey) => summary[scenario]?.[target]?.[metric];
  const checks: TargetCheck[] = [];
  const add = (goal: string, actual: number | undefined, met: (value: number) => boolean, unit = '') => {
    if (actual !== undefined) checks.push({ goal, actual: `${round(actual)}${unit}`, met: met(actual) });
  };
  for (const lib of ['sse', 'ws'] as const) {
    const name = lib === 'sse' ? 'SSE' : 'WS';
    add(`(a) ${name} events/s ≥ 0.5× direct`, ratio(get('a', lib, 'eventsPerSec'), get('a', 'direct', 'eventsPerSec')), (r) => r >= 0.5, '×');
    const added = minus(get('b', lib, 'ttfeP50Ms'), get('b', 'direct', 'ttfeP50Ms'));
    add(`(b) ${name} added first-event p50 ≤ 2 ms`, added, (ms) => ms <= 2, ' ms');
    add(`(c) ${name} total ≤ 1.2× direct`, ratio(get('c', lib, 'totalMs'), get('c', 'direct', 'totalMs')), (r) => r <= 1.2, '×');
    add(`(c) ${name} stream p99 ≤ 1.2× direct`, ratio(get('c', lib, 'streamP99Ms'), get('c', 'direct', 'streamP99Ms')), (r) => r <= 1.2, '×');
    add(`(c) ${name} server peak RSS ≤ 150 MiB`, get('c', lib, 'peakRssMiB'), (mib) => mib <= 150, ' MiB');
    add(`(d) ${name} total ≤ 1.5× direct`, ratio(get('d', lib, 'totalMs'), get('d', 'direct', 'totalMs')), (r) => r <= 1.5, '×');
    add(`(d) ${name} errors = 0`, get('d', lib, 'errors'), (errors) => errors === 0);
    add(`(d) ${name} server peak RSS ≤ 400 MiB`, get('d', lib, 'peakRssMiB'), (mib) => mib <= 400, ' MiB');
    const rows: Array<[string, MetricKey, boolean]> = [
      ['a', 'eventsPerSec', true],
      ['b', 'ttfeP50Ms', false],
      ['c', 'totalMs', false],
      ['c', 'streamP99Ms', false],
      ['c', 'peakRssMiB', false],
      ['d', 'totalMs', false],
      ['d', 'streamP99Ms', false],
      ['d', 'peakRssMiB', false],
    ];
    for (const [scenario, metric, higherIsBetter] of rows) {
      const r = ratio(get(scenario, lib, metric), get(scenario, 'hand', metric));
      const label = ROWS.find((row) => row.scenario === scenario && row.metric === metric)!.label;
      add(
        `(${scenario}) ${name} ${label} ${higherIsBetter ? '≥ 0.95×' : '≤ 1.05×'} hand-written`,
        r,
        (value) => (higherIsBetter ? value >= 0.95 : value <= 1 / 0.95),
        '×',
      );
    }
  }
  return checks;
}

function minus(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

const cell = (value: number | undefined, suffix = '') => (value === undefined || Number.isNaN(value) ? '–' : `${value}${suffix}`);

/** The results table, in Markdown: medians per target, then ratios to upstream-direct and to hand-written. */
export function resultsTable(summary: Summary, scenarios: Scenario[]): string {
  const lines = [
    '| scenario | metric | upstream-direct | hand-written | library SSE | library WS | SSE / direct | WS / direct | SSE / hand | WS / hand |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of ROWS) {
    const byTarget = summary[row.scenario];
    if (!byTarget || !scenarios.some((scenario) => scenario.key === row.scenario)) continue;
    const value = (target: Target) => byTarget[target]?.[row.metric];
    const ratios = row.metric === 'errors' ? [] : [ratio(value('sse'), value('direct')), ratio(value('ws'), value('direct')), ratio(value('sse'), value('hand')), ratio(value('ws'), value('hand'))];
    lines.push(
      `| (${row.scenario}) | ${row.label} | ${TARGETS.map((target) => cell(value(target))).join(' | ')} | ${
        row.metric === 'errors' ? '| | |' : ratios.map((r) => cell(r, '×')).join(' | ')
      } |`,
    );
  }
  return lines.join('\n');
}

/** The targets as a Markdown table. */
export function targetsTable(checks: TargetCheck[]): string {
  return [
    '| target | measured | met |',
    '| --- | ---: | :---: |',
    ...checks.map((check) => `| ${check.goal} | ${check.actual} | ${check.met ? 'yes' : '**no**'} |`),
  ].join('\n');
}
