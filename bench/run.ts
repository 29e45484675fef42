import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Child mode: runs one bench file and writes its results as JSON. Each file runs in its own process so that
 * one benchmark's crash or leftover state cannot take down or skew the others.
 */
async function child(file: string, out: string): Promise<void> {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { run: () => Promise<BenchResult[]> };
  writeFileSync(out, JSON.stringify(await mod.run()));
  process.exit(0);
}

/** Runs every bench/*.bench.ts (or those named on the command line), prints a table, writes results/latest.json. */
function main(): void {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const date = new Date().toISOString();
  process.stderr.write(`warden bench on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}\n`);
  const all: (BenchResult & { file: string })[] = [];
  const failures: { file: string; error: string }[] = [];
  for (const file of files) {
    process.stderr.write(`running ${file} ...\n`);
    const out = join(mkdtempSync(join(tmpdir(), 'warden-bench-')), 'result.json');
    const r = spawnSync(
      process.execPath,
      [...process.execArgv, fileURLToPath(import.meta.url), '--child', file, out],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    );
    try {
      if (r.status !== 0) throw new Error(`exited with ${r.status ?? r.signal ?? 'unknown'}`);
      for (const x of JSON.parse(readFileSync(out, 'utf8')) as BenchResult[]) all.push({ ...x, file });
    } catch (error) {
      failures.push({ file, error: error instanceof Error ? error.message : String(error) });
      process.stderr.write(`  FAILED: ${String(error)}\n`);
    }
  }
  const rows = all.map((r) => [
    r.name,
    r.opsPerSec.toLocaleString('en-US'),
    r.p50Us === undefined ? '' : String(r.p50Us),
    r.p99Us === undefined ? '' : String(r.p99Us),
    r.notes ?? '',
  ]);
  const header = ['benchmark', 'ops/s', 'p50 µs', 'p99 µs', 'notes'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  process.stdout.write(fmt(header) + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
  for (const r of rows) process.stdout.write(fmt(r) + '\n');
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(
    join(here, 'results', 'latest.json'),
    JSON.stringify({ date, machine, command: 'npm run bench', results: all, failures }, null, 2) + '\n',
  );
  process.stderr.write(
    `wrote bench/results/latest.json${failures.length ? `; ${failures.length} benchmark file(s) failed` : ''}\n`,
  );
  if (failures.length > 0) process.exitCode = 1;
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) await child(process.argv[childAt + 1] ?? '', process.argv[childAt + 2] ?? '');
else main();
