import type { BenchResult } from './types.js';

/** Percentile of sorted samples (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

/**
 * Measures an async operation: per-call latency over `samples` calls (after `warmup`), and throughput
 * over the same calls run back to back on this one thread.
 */
export async function measureAsync(
  name: string,
  op: (i: number) => unknown,
  options: { samples?: number; warmup?: number; notes?: string } = {},
): Promise<BenchResult> {
  const samples = options.samples ?? 50_000;
  const warmup = options.warmup ?? Math.min(10_000, samples);
  for (let i = 0; i < warmup; i++) await op(i);
  const lat = new Float64Array(samples);
  const started = process.hrtime.bigint();
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    await op(i);
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalUs = Number(process.hrtime.bigint() - started) / 1000;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  const result: BenchResult = {
    name,
    unit: 'ops/s',
    opsPerSec: Math.round((samples / totalUs) * 1e6),
    p50Us: round(percentile(sorted, 50)),
    p99Us: round(percentile(sorted, 99)),
    samples,
  };
  if (options.notes) result.notes = options.notes;
  return result;
}

/** Rounds to three significant decimals for the report. */
export function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
