/**
 * One measurement a benchmark reports. `bench/run.ts` imports every `bench/*.bench.ts`, calls its `run()`
 * and prints these; benchmarks report numbers and never assert on them.
 */
export interface BenchResult {
  /** What was measured, e.g. `ledger.append sqlite (batches of 500)`. */
  name: string;
  unit: 'ops/s';
  /** Throughput: operations (records, decisions, calls, ...) per second. */
  opsPerSec: number;
  /** Median latency of one sample, in microseconds, when the benchmark measures latency. */
  p50Us?: number;
  /** 99th-percentile latency of one sample, in microseconds. */
  p99Us?: number;
  /** How many operations or samples the numbers are based on. */
  samples: number;
  /** How the number was obtained, or why it is missing. */
  notes?: string;
}
