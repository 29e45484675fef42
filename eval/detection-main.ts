/**
 * Detection evaluation of the prompt-injection scanner.
 *
 *   npx tsx eval/detection-main.ts [--data ../shared/data] [--out eval/results/detection.json]
 *   npx tsx eval/detection-main.ts --show-tuning   # tuning split only: its table, misses and false positives;
 *                                                  # prints nothing of the reported split or of the project's
 *                                                  # own hold-out sets, and writes nothing
 *
 * Prints a table of the reported split and writes the full report (both splits) as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { DEFAULT_INJECTION_THRESHOLD } from '../src/trust/injection/index.js';
import {
  buildReport,
  loadAll,
  runOwnSets,
  scanRows,
  type DetectionReport,
  type Rate,
  type SliceReport,
} from './detection.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v ?? fallback;
}

function pct(r: Rate | undefined): string {
  if (r === undefined) return '-';
  const f = (x: number): string => (x * 100).toFixed(1);
  return `${f(r.rate)}% [${f(r.low)}–${f(r.high)}] (${r.k}/${r.n})`;
}

function row(cells: string[], widths: number[]): string {
  return cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join('  ');
}

function table(report: DetectionReport, split: 'tuning' | 'reported'): string {
  const widths = [28, 6, 34, 34];
  const lines = [row(['data set', 'n', 'true positives (95% CI)', 'false positives (95% CI)'], widths)];
  lines.push('-'.repeat(widths.reduce((a, b) => a + b + 2, 0)));
  const add = (name: string, s: SliceReport): void => {
    lines.push(row([name, String(s.n), pct(s.tpr), pct(s.fpr)], widths));
  };
  for (const d of report.datasets) add(d.name, d.splits[split]);
  lines.push('-'.repeat(widths.reduce((a, b) => a + b + 2, 0)));
  add('all injected', report.overall[split].injected);
  add('all clean', report.overall[split].clean);
  add('clean: NotInject + AgentDojo', report.overall[split].cleanTargetSets);
  return lines.join('\n');
}

function breakdown(report: DetectionReport, split: 'tuning' | 'reported'): string {
  const lines: string[] = [];
  for (const d of report.datasets) {
    for (const [field, values] of Object.entries(d.breakdown)) {
      lines.push(`${d.name} by ${field}:`);
      for (const [value, per] of Object.entries(values)) {
        const s = per[split];
        if (s.n === 0) continue;
        lines.push(
          `  ${value.padEnd(56)} n=${String(s.n).padEnd(5)} TP ${pct(s.tpr).padEnd(32)} FP ${pct(s.fpr)}`,
        );
      }
    }
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const dataDir = resolve(arg('--data', '../shared/data'));
  const out = resolve(arg('--out', 'eval/results/detection.json'));
  const tuningOnly = process.argv.includes('--show-tuning');
  const rows = await loadAll(dataDir);
  const scanned = scanRows(rows);
  // The project's own hold-out sets are scanned only in a reporting run, like the reported split.
  const own = tuningOnly ? [] : await runOwnSets();
  const report = buildReport(scanned, DEFAULT_INJECTION_THRESHOLD, own);
  console.log(`Prompt-injection detection (rules ${report.rulesVersion}, threshold ${report.threshold})`);
  console.log(`split: ${report.split.rule}; ${report.split.note}\n`);
  if (!tuningOnly) {
    console.log('REPORTED split\n' + table(report, 'reported') + '\n');
    console.log(breakdown(report, 'reported') + '\n');
    console.log('OWN SETS (test/fixtures, written for this detector; no split)');
    for (const o of report.ownSets) {
      console.log(`  ${o.name.padEnd(28)} ${o.label === 1 ? 'TP' : 'FP'} ${pct(o.flagged)}`);
    }
    console.log('');
  }
  const t = report.throughput;
  console.log(
    `throughput: ${t.rows} rows, ${t.totalKiB} KiB; ms/KiB p50 ${t.msPerKiBP50} p99 ${t.msPerKiBP99} (rows >= 1 KiB: p50 ${t.msPerKiBP50Large} p99 ${t.msPerKiBP99Large}, n=${t.largeRows}); overall ${t.msPerKiBOverall} ms/KiB; per row p50 ${t.rowUsP50} µs p99 ${t.rowUsP99} µs`,
  );

  if (tuningOnly) {
    console.log('\nTUNING split\n' + table(report, 'tuning') + '\n');
    console.log(breakdown(report, 'tuning') + '\n');
    for (const r of scanned) {
      if (r.split !== 'tuning' || r.flagged === (r.label === 1)) continue;
      const kind = r.label === 1 ? 'MISS' : 'FALSE POSITIVE';
      const top = r.scan.findings
        .slice()
        .sort((a, b) => b.score - a.score)
        .slice(0, 4)
        .map((f) => `${f.rule}=${f.score} "${f.excerpt.slice(0, 60)}"`)
        .join('; ');
      const cat = Object.values(r.categories).join('/');
      console.log(
        `${kind} ${r.dataset} ${cat} score=${r.scan.score} ${top}\n    ${JSON.stringify(r.text.length > 300 ? r.text.slice(0, 150) + ' … ' + r.text.slice(-150) : r.text)}`,
      );
    }
  }

  // While tuning, the reported split stays unseen: nothing is written.
  if (tuningOnly) return;
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
