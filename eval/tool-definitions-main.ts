/**
 * `npx tsx eval/tool-definitions-main.ts [--data ../shared/data] [--split reported|tuning|all]`
 * Prints the MSB tool-definition table and writes `eval/results/tool-definitions.json`.
 * `--split tuning` also prints the rows the scanner gets wrong; the reported split never does.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODES, runToolDefinitionEval, type EvalSplit, type Rate } from './tool-definitions.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function pct(r: Rate): string {
  if (r.rate === null || r.lo === null || r.hi === null) return 'n/a';
  const f = (x: number): string => (x * 100).toFixed(1);
  return `${f(r.rate)}% [${f(r.lo)}-${f(r.hi)}] ${r.k}/${r.n}`;
}

async function main(): Promise<void> {
  const dataDir = resolve(arg('--data') ?? '../shared/data');
  const splitArg = arg('--split') ?? 'reported';
  if (splitArg !== 'reported' && splitArg !== 'tuning' && splitArg !== 'all') {
    throw new Error(`--split must be reported, tuning or all (got ${splitArg})`);
  }
  const split: EvalSplit | 'all' = splitArg;
  const report = await runToolDefinitionEval(dataDir, { split });

  const header = ['metric', ...MODES];
  const rows: string[][] = [header];
  rows.push(['detection (all attacks)', ...MODES.map((m) => pct(report.modes[m].detection))]);
  const families = Object.keys(report.modes.definition.families);
  for (const fam of families) {
    rows.push([
      `  ${fam}`,
      ...MODES.map((m) => {
        const r = report.modes[m].families[fam];
        return r === undefined ? 'n/a' : pct(r);
      }),
    ]);
  }
  rows.push(['false positives (clean)', ...MODES.map((m) => pct(report.modes[m].falsePositive))]);
  rows.push([
    '  excl. contradictory rows',
    ...MODES.map((m) => pct(report.modes[m].falsePositiveConsistent)),
  ]);
  const widths = header.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ');

  console.log(`MSB tool definitions: ${report.rows} rows; split ${report.split.rule}`);
  console.log(
    `tuning ${report.split.tuning}, reported ${report.split.reported}; quoting: ${report.split.quoted}`,
  );
  console.log('rate [95% Wilson interval] k/n\n');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of rows.slice(1)) console.log(line(r));
  console.log('');
  for (const n of report.notes) console.log(`- ${n}`);
  if (report.errors !== undefined && report.errors.length > 0) {
    console.log('\nerrors on the tuning split:');
    for (const e of report.errors) {
      console.log(
        `  [${e.mode}] label=${e.label} ${e.attack ?? 'clean'} ${e.server}/${e.name} score=${e.score} ${e.rules.join(', ')}`,
      );
    }
  }

  const out = resolve(dirname(fileURLToPath(import.meta.url)), 'results', 'tool-definitions.json');
  await mkdir(dirname(out), { recursive: true });
  await writeFile(
    out,
    JSON.stringify(
      { command: `npx tsx eval/tool-definitions-main.ts --split ${split}`, ...report },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${out}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
