import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ServerHealth } from './ipc';
import type { PhaseResult } from './load';

/** One check of the soak's verdict. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Everything a soak run found, as written to soak/results/latest.json. */
export interface SoakReport {
  date: string;
  node: string;
  cpus: number;
  options: { streams: number; concurrency: number; seed: number; deadlineS: number };
  warmup?: PhaseResult;
  main?: PhaseResult;
  final?: PhaseResult[];
  upstream?: {
    requests: number;
    completed: number;
    aborted: number;
    untagged: number;
    openAfter: number;
    /** What the upstream saw of the streams whose client left: aborted, answered to the end anyway, or never asked. */
    disconnects: { aborted: number; completed: number; neverAsked: number };
    /** The same by how the client left (`@0`: before the first event). */
    disconnectsByKind: Record<string, { aborted: number; completed: number; neverAsked: number }>;
    /** CPU time of the driver process, which hosts the upstream, during the load. */
    cpuMs: number;
  };
  heap?: { baselineMiB: number; afterMiB: number; deltaMiB: number; rssBaselineMiB: number; rssAfterMiB: number };
  server?: { baseline?: ServerHealth; after?: ServerHealth; closedInMs?: number; exitedOnItsOwn?: boolean; logErrors?: number; logWarnings?: number };
  wallTimeS: number;
  checks: Check[];
  passed: boolean;
}

export const MiB = 1024 * 1024;
export const mib = (bytes: number) => Math.round((bytes / MiB) * 100) / 100;

/** The human summary, one `label  value` row each. */
export function summary(report: SoakReport): string {
  const rows: Array<[string, string]> = [];
  const main = report.main;
  rows.push(['streams', main ? `${main.streams} (${main.sse} SSE, ${main.ws} websocket on ${main.wsSockets} sockets), concurrency ${report.options.concurrency}` : 'not run']);
  if (main) {
    rows.push(['completed intact', `${main.clean.intact} / ${main.clean.planned} clean streams`]);
    rows.push(['aborted by clients', `${main.aborted.planned} (early ${main.aborted.byHow.early}, after headers or k events ${main.aborted.byHow.destroy}, ws close ${main.aborted.byHow.close}, ws terminate ${main.aborted.byHow.terminate}), ${main.aborted.ok} with an intact prefix`]);
    for (const [kind, tally] of Object.entries(main.faults)) {
      const statuses = Object.entries(tally.statuses).map(([status, count]) => `${status}×${count}`).join(' ') || '-';
      rows.push([`fault ${kind}`, `${tally.ok} / ${tally.planned} as expected; status_code ${statuses}${tally.plainHttp ? `; ${tally.plainHttp} as plain HTTP` : ''}`]);
    }
    rows.push(['failed streams', String(main.failed)]);
    rows.push(['latency of intact streams', `p50 ${main.latencyMs.p50} ms, p95 ${main.latencyMs.p95} ms, p99 ${main.latencyMs.p99} ms, max ${main.latencyMs.max} ms`]);
    rows.push(['load phase', `${(main.durationMs / 1000).toFixed(1)} s, ${Math.round(main.streams / (main.durationMs / 1000))} streams/s`]);
  }
  if (report.upstream) {
    const u = report.upstream;
    rows.push(['upstream (all phases)', `${u.requests} requests (retries included), ${u.completed} completed, ${u.aborted} aborted by the server`]);
    const d = u.disconnects;
    rows.push(['upstream of client disconnects', `${d.aborted} aborted, ${d.completed} answered to the end before the abort reached it, ${d.neverAsked} never asked`]);
    rows.push(['open upstream sockets after', String(u.openAfter)]);
  }
  if (report.heap) {
    const h = report.heap;
    rows.push(['heap after GC', `baseline ${h.baselineMiB} MiB, after ${h.afterMiB} MiB (${h.deltaMiB >= 0 ? '+' : ''}${h.deltaMiB} MiB); rss ${h.rssBaselineMiB} → ${h.rssAfterMiB} MiB`]);
  }
  const server = report.server;
  if (server?.after && server.baseline && main) {
    const cpuMs = server.after.cpuMs - server.baseline.cpuMs;
    const active = server.after.loopActiveMs - server.baseline.loopActiveMs;
    const idle = server.after.loopIdleMs - server.baseline.loopIdleMs;
    rows.push(['server CPU during the load', `${(cpuMs / 1000).toFixed(1)} s, ${(cpuMs / main.streams).toFixed(1)} ms a stream (${Math.round((cpuMs / main.durationMs) * 100)}% of one core); event loop busy ${Math.round((active / (active + idle)) * 100)}% of the time`]);
  }
  if (server?.after) {
    rows.push(['unhandled / uncaught', `${server.after.unhandledRejections} / ${server.after.uncaughtExceptions}`]);
    rows.push(['live resources', `baseline ${describeResources(server.baseline?.resources ?? {})}; after ${describeResources(server.after.resources)}`]);
  }
  if (server?.closedInMs !== undefined) {
    rows.push(['server shutdown', `app.close() ${server.closedInMs} ms, ${server.exitedOnItsOwn ? 'process exited on its own' : 'process had to be killed'}`]);
  }
  rows.push(['wall time', `${report.wallTimeS.toFixed(1)} s (deadline ${report.options.deadlineS} s)`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const lines = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`);
  const checks = report.checks.map((check) => `  ${check.ok ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}`);
  const failures = [report.warmup, report.main, ...(report.final ?? [])].flatMap((phase) => phase?.failures ?? []);
  return [
    'Soak summary',
    ...lines,
    '',
    'Checks',
    ...checks,
    ...(failures.length ? ['', 'First failures', ...failures.slice(0, 20).map((line) => `  ${line}`)] : []),
    '',
    report.passed ? 'SOAK PASSED' : 'SOAK FAILED',
  ].join('\n');
}

function describeResources(resources: Record<string, number>): string {
  return Object.entries(resources).map(([type, count]) => `${type} ${count}`).join(', ') || 'none';
}

/** Writes the report as JSON, atomically (a reader never sees half a file). */
export function writeReport(path: string, report: SoakReport): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temporary, path);
}
