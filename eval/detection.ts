import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

import {
  DEFAULT_INJECTION_THRESHOLD,
  INJECTION_RULES_VERSION,
  scanForInjection,
} from '../src/trust/injection/index.js';
import type { InjectionScan } from '../src/trust/injection/index.js';
import { TUNING_BYTE_LIMIT, splitOf, type Split } from './split.js';

/**
 * Detection evaluation of the prompt-injection scanner on third-party data (../shared/data, see SOURCES.md).
 * Every row is assigned to a split by hashing its text (eval/split.ts). The detector was tuned on the tuning
 * split only; the numbers to quote are those of the reported split.
 */

/** A proportion with its 95% Wilson score interval. */
export interface Rate {
  k: number;
  n: number;
  rate: number;
  low: number;
  high: number;
}

/** Counts and rates of one data set (or one slice of it) on one split. */
export interface SliceReport {
  n: number;
  positives: number;
  negatives: number;
  /** True-positive rate on rows labelled as injected; absent when the slice has none. */
  tpr?: Rate;
  /** False-positive rate on clean rows; absent when the slice has none. */
  fpr?: Rate;
}

/** One data set: per split, and per category on each split (attack family, task, suite). */
export interface DatasetReport {
  name: string;
  file: string;
  splits: Record<Split, SliceReport>;
  /** Category field -> value -> split -> slice. */
  breakdown: Record<string, Record<string, Record<Split, SliceReport>>>;
}

/** Scan time: each row's median of three timed scans, after a warm-up pass over all rows. */
export interface Throughput {
  rows: number;
  totalKiB: number;
  /** Milliseconds per KiB of UTF-8 text, per row. Small rows pay a fixed cost, so p50 over rows is pessimistic. */
  msPerKiBP50: number;
  msPerKiBP99: number;
  /** Same, over rows of at least 1 KiB only (where the per-KiB figure means what it says). */
  msPerKiBP50Large: number;
  msPerKiBP99Large: number;
  largeRows: number;
  /** Total scan time divided by total KiB. */
  msPerKiBOverall: number;
  /** Per-row scan time (median of 3 timed scans), microseconds. */
  rowUsP50: number;
  rowUsP99: number;
}

/** One of the project's own small sets (test/fixtures/injection-*.jsonl): no split, every row counts. */
export interface OwnSetReport {
  name: string;
  file: string;
  label: 0 | 1;
  note: string;
  /** Share flagged: true positives for attack sets, false positives for benign sets. */
  flagged: Rate;
}

/** The whole report, written to eval/results/detection.json. */
export interface DetectionReport {
  generatedAt: string;
  rulesVersion: string;
  threshold: number;
  split: { rule: string; tuningShare: number; note: string };
  datasets: DatasetReport[];
  /** All injected rows of BIPIA, AgentDojo and ASB; all clean rows of NotInject, AgentDojo and BIPIA. */
  overall: Record<Split, { injected: SliceReport; clean: SliceReport; cleanTargetSets: SliceReport }>;
  /** The project's own benign and attack sets, written for this detector; see {@link OWN_SETS}. */
  ownSets: OwnSetReport[];
  targets: { tpr: number; fpr: number; note: string };
  throughput: Throughput;
  node: string;
}

/** A row as the harness sees it. */
export interface Row {
  dataset: string;
  text: string;
  label: 0 | 1;
  categories: Record<string, string>;
  /** Text whose hash decides the split, when it is not `text` (a row built from another row). */
  splitText?: string;
}

interface DatasetSpec {
  name: string;
  file: string;
  /** Row fields to break results down by. */
  categories: string[];
}

const DATASETS: readonly DatasetSpec[] = [
  { name: 'bipia', file: 'bipia/detector.jsonl', categories: ['task', 'attack_category', 'position'] },
  { name: 'agentdojo', file: 'agentdojo/tool-outputs.jsonl', categories: ['suite'] },
  { name: 'asb', file: 'asb/attacker-instructions.jsonl', categories: [] },
  { name: 'notinject', file: 'notinject/notinject.jsonl', categories: ['subset'] },
];

/** 95% Wilson score interval of k successes in n trials. */
export function wilson(k: number, n: number, z = 1.96): Rate {
  if (n === 0) return { k, n, rate: 0, low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  const r4 = (x: number): number => Math.round(x * 10000) / 10000;
  return { k, n, rate: r4(p), low: r4(Math.max(0, centre - half)), high: r4(Math.min(1, centre + half)) };
}

/** Load the rows of one JSONL file. Malformed lines are an error: the data set must be what SOURCES.md says. */
export async function loadRows(dataDir: string, spec: DatasetSpec): Promise<Row[]> {
  const raw = await readFile(join(dataDir, spec.file), 'utf8');
  const rows: Row[] = [];
  raw.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const obj = JSON.parse(line) as Record<string, unknown>;
    const text = obj.text;
    const label = obj.label;
    if (typeof text !== 'string' || (label !== 0 && label !== 1)) {
      throw new Error(`${spec.file}:${i + 1}: expected string "text" and label 0|1`);
    }
    const categories: Record<string, string> = {};
    for (const c of spec.categories) {
      const v = obj[c];
      categories[c] =
        typeof v === 'string' ? v : v === undefined || v === null ? '(none)' : JSON.stringify(v);
    }
    rows.push({ dataset: spec.name, text, label, categories });
  });
  return rows;
}

/** Load every data set the harness knows, plus the ASB instructions placed inside clean tool outputs. */
export async function loadAll(dataDir: string): Promise<Row[]> {
  const all: Row[] = [];
  for (const spec of DATASETS) all.push(...(await loadRows(dataDir, spec)));
  all.push(...embedAsb(all));
  return all;
}

/** Name of the derived data set built by {@link embedAsb}. Not part of the overall figures (it repeats ASB). */
export const ASB_EMBEDDED = 'asb-embedded';

/**
 * ASB's attacker instructions are bare sentences; in an attack they arrive inside a tool's output. This places
 * each one, on a line of its own, before or after a clean BIPIA context or AgentDojo tool output. Deterministic:
 * the instruction's sha256 picks the context and the position. The row keeps the split of its instruction, and its
 * context comes from the same split, so the tuning part never contains reported text and the other way round.
 */
export function embedAsb(rows: readonly Row[]): Row[] {
  const pools: Record<Split, Row[]> = { tuning: [], reported: [] };
  for (const r of rows) {
    if (r.label === 0 && (r.dataset === 'bipia' || r.dataset === 'agentdojo')) pools[splitOf(r.text)].push(r);
  }
  const out: Row[] = [];
  for (const r of rows) {
    if (r.dataset !== 'asb') continue;
    const pool = pools[splitOf(r.text)];
    if (pool.length === 0) continue;
    const h = createHash('sha256').update(r.text, 'utf8').digest();
    const ctx = pool[h.readUInt32BE(1) % pool.length];
    if (ctx === undefined) continue;
    const position = (h[5] ?? 0) & 1 ? 'start' : 'end';
    const text = position === 'start' ? `${r.text}\n\n${ctx.text}` : `${ctx.text}\n\n${r.text}`;
    out.push({
      dataset: ASB_EMBEDDED,
      text,
      label: 1,
      categories: { position, context: ctx.dataset },
      splitText: r.text,
    });
  }
  return out;
}

/** The project's own sets (not third-party data): where they came from and what they are for. */
export const OWN_SETS: readonly { name: string; file: string; label: 0 | 1; note: string }[] = [
  {
    name: 'own benign, hold-out',
    file: 'injection-holdout-benign.jsonl',
    label: 0,
    note: 'Ordinary e-mails, READMEs, how-tos, recipes, tickets, notices with imperatives; written before the 2026.2 rules were final and scanned once, at the end.',
  },
  {
    name: 'own attacks, hold-out',
    file: 'injection-holdout-attacks.jsonl',
    label: 1,
    note: 'Injections in styles other than the evaluation sets; written before the 2026.2 rules were final and scanned once, at the end.',
  },
  {
    name: 'own benign, development',
    file: 'injection-dev-benign.jsonl',
    label: 0,
    note: 'Benign text with imperatives, looked at while the 2026.2 rules were written: an optimistic estimate.',
  },
  {
    name: 'own attacks, development',
    file: 'injection-dev-attacks.jsonl',
    label: 1,
    note: 'Injections looked at while the 2026.2 rules were written: an optimistic estimate.',
  },
];

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');

/** Scan the project's own sets (test/fixtures). */
export async function runOwnSets(threshold = DEFAULT_INJECTION_THRESHOLD): Promise<OwnSetReport[]> {
  const out: OwnSetReport[] = [];
  for (const set of OWN_SETS) {
    const raw = await readFile(join(FIXTURES, set.file), 'utf8');
    const texts = raw
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { text: string }).text);
    const k = texts.filter((t) => scanForInjection(t, { threshold }).flagged).length;
    out.push({
      name: set.name,
      file: `test/fixtures/${set.file}`,
      label: set.label,
      note: set.note,
      flagged: wilson(k, texts.length),
    });
  }
  return out;
}

function slice(rows: readonly { label: 0 | 1; flagged: boolean }[]): SliceReport {
  const pos = rows.filter((r) => r.label === 1);
  const neg = rows.filter((r) => r.label === 0);
  const out: SliceReport = { n: rows.length, positives: pos.length, negatives: neg.length };
  if (pos.length > 0) out.tpr = wilson(pos.filter((r) => r.flagged).length, pos.length);
  if (neg.length > 0) out.fpr = wilson(neg.filter((r) => r.flagged).length, neg.length);
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? 0;
}

/** A scanned row. */
export interface ScannedRow extends Row {
  split: Split;
  flagged: boolean;
  scan: InjectionScan;
  ms: number;
  kib: number;
}

/** Timed scans per row; the median is kept, so one garbage-collection pause does not make a row look slow. */
const TIMED_RUNS = 3;

/** Scan every row once to warm up, then TIMED_RUNS times, keeping the median time and the (identical) result. */
export function scanRows(rows: readonly Row[], threshold = DEFAULT_INJECTION_THRESHOLD): ScannedRow[] {
  for (const r of rows) scanForInjection(r.text, { threshold });
  return rows.map((r) => {
    const times: number[] = [];
    let scan: InjectionScan | undefined;
    for (let i = 0; i < TIMED_RUNS; i++) {
      const t0 = performance.now();
      scan = scanForInjection(r.text, { threshold });
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const ms = times[Math.floor(TIMED_RUNS / 2)] ?? 0;
    if (scan === undefined) throw new Error('unreachable: no scan');
    return {
      ...r,
      split: splitOf(r.splitText ?? r.text),
      flagged: scan.flagged,
      scan,
      ms,
      kib: Buffer.byteLength(r.text, 'utf8') / 1024,
    };
  });
}

/** Build the report from scanned rows. */
export function buildReport(
  scanned: readonly ScannedRow[],
  threshold = DEFAULT_INJECTION_THRESHOLD,
  ownSets: OwnSetReport[] = [],
): DetectionReport {
  const splits: Split[] = ['tuning', 'reported'];
  const specs: DatasetSpec[] = [
    ...DATASETS,
    {
      name: ASB_EMBEDDED,
      file: 'asb/attacker-instructions.jsonl (inside clean contexts)',
      categories: ['position', 'context'],
    },
  ];
  const datasets: DatasetReport[] = specs.map((spec) => {
    const rows = scanned.filter((r) => r.dataset === spec.name);
    const bySplit = {} as Record<Split, SliceReport>;
    for (const s of splits) bySplit[s] = slice(rows.filter((r) => r.split === s));
    const breakdown: DatasetReport['breakdown'] = {};
    for (const c of spec.categories) {
      const values = [...new Set(rows.map((r) => r.categories[c] ?? '(none)'))].sort();
      const byValue: Record<string, Record<Split, SliceReport>> = {};
      for (const v of values) {
        const inV = rows.filter((r) => (r.categories[c] ?? '(none)') === v);
        const per = {} as Record<Split, SliceReport>;
        for (const s of splits) per[s] = slice(inV.filter((r) => r.split === s));
        byValue[v] = per;
      }
      breakdown[c] = byValue;
    }
    return { name: spec.name, file: spec.file, splits: bySplit, breakdown };
  });

  const overall = {} as DetectionReport['overall'];
  for (const s of splits) {
    const inSplit = scanned.filter((r) => r.split === s && r.dataset !== ASB_EMBEDDED);
    overall[s] = {
      injected: slice(inSplit.filter((r) => r.label === 1)),
      clean: slice(inSplit.filter((r) => r.label === 0)),
      cleanTargetSets: slice(
        inSplit.filter((r) => r.label === 0 && (r.dataset === 'notinject' || r.dataset === 'agentdojo')),
      ),
    };
  }

  // Scan time over the data sets' own rows; the embedded ASB rows repeat their contexts.
  const real = scanned.filter((r) => r.dataset !== ASB_EMBEDDED);
  const perKib = real.map((r) => r.ms / Math.max(r.kib, 1e-3)).sort((a, b) => a - b);
  const large = real
    .filter((r) => r.kib >= 1)
    .map((r) => r.ms / r.kib)
    .sort((a, b) => a - b);
  const rowUs = real.map((r) => r.ms * 1000).sort((a, b) => a - b);
  const totalMs = real.reduce((a, r) => a + r.ms, 0);
  const totalKiB = real.reduce((a, r) => a + r.kib, 0);
  const r4 = (x: number): number => Math.round(x * 10000) / 10000;
  const throughput: Throughput = {
    rows: real.length,
    totalKiB: Math.round(totalKiB),
    msPerKiBP50: r4(percentile(perKib, 50)),
    msPerKiBP99: r4(percentile(perKib, 99)),
    msPerKiBP50Large: r4(percentile(large, 50)),
    msPerKiBP99Large: r4(percentile(large, 99)),
    largeRows: large.length,
    msPerKiBOverall: r4(totalMs / Math.max(totalKiB, 1e-9)),
    rowUsP50: Math.round(percentile(rowUs, 50)),
    rowUsP99: Math.round(percentile(rowUs, 99)),
  };

  return {
    generatedAt: new Date().toISOString(),
    rulesVersion: INJECTION_RULES_VERSION,
    threshold,
    split: {
      rule: `sha256(utf8(text))[0] < ${TUNING_BYTE_LIMIT} -> tuning, else reported`,
      tuningShare: Math.round((TUNING_BYTE_LIMIT / 256) * 1000) / 1000,
      note: 'Rules, weights and the threshold were tuned on the tuning split only; quote the reported split.',
    },
    datasets,
    overall,
    ownSets,
    targets: {
      tpr: 0.9,
      fpr: 0.02,
      note: 'From the issue: over 90% true positives on injected content, under 2% false positives on NotInject and clean tool outputs.',
    },
    throughput,
    node: process.version,
  };
}

/** Load ../shared/data (or `dataDir`), scan every row, and report per data set and split. */
export async function runDetectionEval(dataDir: string): Promise<DetectionReport> {
  const rows = await loadAll(dataDir);
  return buildReport(scanRows(rows), DEFAULT_INJECTION_THRESHOLD, await runOwnSets());
}
