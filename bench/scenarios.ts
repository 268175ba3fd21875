import type { MockReplySpec, RunPlan } from './protocol';

/** One scenario of the issue: what the upstream sends and how the load generator reads it. */
export interface Scenario {
  key: 'a' | 'b' | 'c' | 'd';
  title: string;
  reply: MockReplySpec;
  plan: Pick<RunPlan, 'streams' | 'concurrency' | 'connection' | 'prime' | 'rampMs' | 'streamTimeoutMs'>;
  /** Runs in the first N repetitions only (the 1,000-stream scenario is most of a run's time). */
  repetitions?: number;
}

/** How long a bench run may take and how often it repeats each measurement. */
export interface BenchConfig {
  quick: boolean;
  repetitions: number;
  scenarios: Scenario[];
  /** Unmeasured streams against each target when its server starts (JIT, pools). */
  warmup: { reply: MockReplySpec; streams: number; concurrency: number };
  /** The whole run is abandoned (and fails) past this. */
  deadlineMs: number;
}

/**
 * (a) throughput, (b) first event, (c) concurrency, (d) scale, as the issue sets them. `quick` is a
 * smoke check of the harness (CI): every scenario, once, smaller; its figures are not the table's.
 */
export function benchConfig(quick: boolean, repetitions?: number): BenchConfig {
  const paced = (chunkCount: number): MockReplySpec => ({ chunkCount, delayMs: 5 });
  const aStreams = quick ? 3 : 10;
  const bStreams = quick ? 20 : 50;
  const [cStreams, cChunks] = quick ? [100, 100] : [100, 200];
  const [dStreams, dChunks] = quick ? [200, 100] : [1000, 200];
  const scenarios: Scenario[] = [
    {
      key: 'a',
      title: `throughput: one stream of 2,000 chunks, no delay (${aStreams} in a row per run, median)`,
      reply: { chunkCount: 2000 },
      plan: { streams: aStreams, concurrency: 1, connection: 'reuse', prime: 2, rampMs: 0, streamTimeoutMs: 30_000 },
    },
    {
      key: 'b',
      title: `first event: ${bStreams} sequential streams of 20 chunks`,
      reply: { chunkCount: 20 },
      plan: { streams: bStreams, concurrency: 1, connection: 'reuse', prime: 2, rampMs: 0, streamTimeoutMs: 10_000 },
    },
    {
      key: 'c',
      title: `concurrency: ${cStreams} concurrent streams of ${cChunks} chunks at 5 ms (arriving over 100 ms)`,
      reply: paced(cChunks),
      plan: { streams: cStreams, concurrency: cStreams, connection: 'fresh', prime: 0, rampMs: 100, streamTimeoutMs: 60_000 },
    },
    {
      key: 'd',
      title: `scale: ${dStreams.toLocaleString('en')} concurrent streams of ${dChunks} chunks at 5 ms (arriving over ${dStreams * 2} ms)`,
      reply: paced(dChunks),
      plan: {
        streams: dStreams,
        concurrency: dStreams,
        connection: 'fresh',
        prime: 0,
        // Clients arrive over 2 ms each: a SYN flood would overflow the 511-connection listen backlogs of
        // the upstream and the apps alike (Node's default), and test the kernel rather than the library.
        rampMs: dStreams * 2,
        streamTimeoutMs: 120_000,
      },
      repetitions: quick ? undefined : 2,
    },
  ];
  return {
    quick,
    repetitions: repetitions ?? (quick ? 1 : 3),
    scenarios,
    warmup: quick ? { reply: { chunkCount: 20 }, streams: 16, concurrency: 4 } : { reply: { chunkCount: 50 }, streams: 40, concurrency: 8 },
    deadlineMs: quick ? 180_000 : 900_000,
  };
}
