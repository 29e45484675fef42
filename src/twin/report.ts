import { relative } from 'node:path';
import type { Verdict } from '../core/types.js';
import { CAP_LABELS, CAP_NAMES, describeDamage, formatBytes, type CapName } from './blast-radius.js';
import type { ScenarioReport, ScenarioRun, Stop } from './runner.js';

/**
 * Reports of twin runs: a table for people, JSON for machines, Markdown for a pull-request comment, and
 * the one-screen summary `warden demo` prints.
 */

/** Totals over several scenarios. */
export interface TwinSummary {
  total: number;
  passed: number;
  failed: number;
  stopped: number;
}

/** Adds up reports. */
export function summarise(reports: readonly ScenarioReport[]): TwinSummary {
  return {
    total: reports.length,
    passed: reports.filter((r) => r.passed).length,
    failed: reports.filter((r) => !r.passed).length,
    stopped: reports.filter((r) => r.stopped).length,
  };
}

/** A group of consecutive stops by the same control: 78 halted comments read as one line. */
export interface StopGroup {
  first: Stop;
  lastIndex: number;
  count: number;
}

/** Groups stops with the same verdict, control, risk and message, in order of first appearance. */
export function groupStops(stops: readonly Stop[]): StopGroup[] {
  const groups: StopGroup[] = [];
  const byKey = new Map<string, StopGroup>();
  for (const s of stops) {
    const key = `${s.verdict}\u0000${s.control}\u0000${s.risk}\u0000${s.message}`;
    const g = byKey.get(key);
    if (g) {
      g.count++;
      g.lastIndex = s.index;
    } else {
      const ng = { first: s, lastIndex: s.index, count: 1 };
      byKey.set(key, ng);
      groups.push(ng);
    }
  }
  return groups;
}

function capValue(name: CapName, n: number): string {
  return name === 'bytesOut' ? formatBytes(n) : String(n);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padStart(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function clip(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= n ? one : one.slice(0, n - 1) + '…';
}

function fileOf(file: string | undefined): string {
  if (!file) return '(inline)';
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function countsLine(run: ScenarioRun): string {
  const c = run.counts;
  return `${c.allow} allowed · ${c.deny} denied · ${c.approve} held for approval · ${c.halt} halted`;
}

const VERDICT_SHORT: Record<Verdict, string> = {
  allow: 'allow',
  deny: 'deny',
  approve: 'approval',
  halt: 'halt',
};

function stopLines(run: ScenarioRun, indent: string, max = 6): string[] {
  const groups = groupStops(run.stops);
  const out = groups.slice(0, max).map((g) => {
    const where = g.count === 1 ? `#${g.first.index}` : `#${g.first.index}–#${g.lastIndex} (${g.count}×)`;
    return `${indent}${pad(where, 18)} ${pad(VERDICT_SHORT[g.first.verdict], 8)} ${pad(g.first.control, 22)} ${g.first.risk}  ${clip(g.first.label, 36)}: ${clip(g.first.message, 72)}`;
  });
  if (groups.length > max) out.push(`${indent}… and ${groups.length - max} more kinds of stop`);
  return out;
}

function blastTable(report: ScenarioReport, caps: readonly CapName[], indent: string): string[] {
  const w = report.warden;
  const b = report.baseline;
  const capOf = (name: CapName) => (w ?? b)?.caps.find((c) => c.name === name);
  const rows: string[][] = [['', w ? 'with Warden' : '', b ? 'without' : '', 'cap']];
  for (const name of caps) {
    const cap = capOf(name);
    const mark = (run: ScenarioRun | undefined) => {
      if (!run) return '';
      const v = capValue(name, run.blast[name]);
      return cap && run.blast[name] > cap.cap ? `${v} !` : v;
    };
    rows.push([CAP_LABELS[name], mark(w), mark(b), cap ? capValue(name, cap.cap) : '-']);
  }
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map(
    (r) =>
      indent +
      r
        .map((cell, i) =>
          i === 0 ? pad(cell, widths[0] ?? 0) : padStart(cell, Math.max(widths[i] ?? 0, 11)),
        )
        .join('  ')
        .trimEnd(),
  );
}

/** The people-readable report of `warden twin run`. */
export function formatTable(reports: readonly ScenarioReport[], options: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  for (const r of reports) {
    const main = r.warden ?? r.baseline;
    if (!main) continue;
    const status = r.passed ? 'PASS' : 'FAIL';
    out.push(`${status}  ${r.id} — ${r.title}`);
    out.push(
      `      ${fileOf(r.file)} · ${main.steps.length} steps over ${(main.simulatedMs / 1000).toFixed(1)} s scripted, run in ${Math.round(main.durationMs)} ms`,
    );
    if (main.error) out.push(`      ERROR: ${main.error}`);
    if (r.warden) {
      out.push(`  decisions     ${countsLine(r.warden)}`);
      if (r.warden.stops.length > 0) {
        out.push('  stopped');
        out.push(...stopLines(r.warden, '    '));
      } else out.push('  stopped       nothing');
    } else {
      out.push('  controls off: every step allowed and executed');
    }
    const used = CAP_NAMES.filter(
      (n) =>
        main.caps.some((c) => c.name === n) ||
        n === 'irreversible' ||
        n === 'bytesOut' ||
        (n === 'secrets' && (r.baseline?.blast.secrets ?? 0) > 0),
    );
    out.push('  blast radius');
    out.push(...blastTable(r, used, '    '));
    if (r.warden) {
      const alerts = r.warden.alerts;
      out.push(
        `  alerts        ${
          alerts.length === 0
            ? 'none'
            : alerts
                .slice(0, 4)
                .map((a) => `${a.rule} (${a.severity}, ${a.agent})`)
                .join('; ') + (alerts.length > 4 ? `; +${alerts.length - 4}` : '')
        }`,
      );
      const e = r.warden.expectations;
      out.push(`  expectations  ${e.length - r.warden.failedExpectations}/${e.length} hold`);
      for (const f of e.filter((x) => !x.ok).slice(0, 12)) out.push(`    ✗ ${f.where}: ${f.actual}`);
      if (r.warden.failedExpectations > 12) out.push(`    … and ${r.warden.failedExpectations - 12} more`);
      if (r.warden.ledger)
        out.push(
          `  ledger        ${r.warden.ledger.records} records, hash chain ${r.warden.ledger.intact ? 'intact' : 'BROKEN'}`,
        );
    }
    for (const run of [r.warden, r.baseline]) {
      if (!run) continue;
      for (const c of run.caps.filter((x) => x.exceeded && run.mode === 'warden'))
        out.push(
          `    ✗ cap exceeded: ${CAP_LABELS[c.name]} ${capValue(c.name, c.actual)} > ${capValue(c.name, c.cap)}`,
        );
      if (run.mode === 'baseline' && !r.warden) {
        for (const c of run.caps.filter((x) => x.exceeded))
          out.push(
            `    ✗ cap exceeded without controls: ${CAP_LABELS[c.name]} ${capValue(c.name, c.actual)} > ${capValue(c.name, c.cap)}`,
          );
      }
    }
    if (options.verbose && main.warnings.length > 0)
      for (const w of main.warnings.slice(0, 10)) out.push(`  warning       ${w}`);
    if (options.verbose && r.warden) {
      out.push('  steps');
      for (const s of r.warden.steps) {
        if (!s.verdict && s.kind !== 'kill' && s.kind !== 'release') continue;
        const why = s.reasons[0] ? ` ${s.reasons[0].control} ${s.reasons[0].risk}` : '';
        out.push(
          `    ${padStart(String(s.index), 4)} ${padStart((s.at / 1000).toFixed(2) + 's', 8)} ${pad(s.agent ?? '', 14)} ${pad(s.verdict ?? s.kind, 8)} ${clip(s.label, 50)}${why}${s.failures.length ? '  ✗' : ''}`,
        );
      }
    }
    out.push('');
  }
  const sum = summarise(reports);
  out.push(
    `${sum.total} scenario${sum.total === 1 ? '' : 's'}: ${sum.passed} passed, ${sum.failed} failed${reports.some((r) => r.warden) ? ` · ${sum.stopped} stopped by Warden` : ''}`,
  );
  return out.join('\n') + '\n';
}

/** The machine-readable report. */
export function formatJson(reports: readonly ScenarioReport[]): string {
  return JSON.stringify({ version: 1, summary: summarise(reports), scenarios: reports }, null, 2) + '\n';
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown report for a pull-request comment or a CI summary. */
export function formatMarkdown(reports: readonly ScenarioReport[]): string {
  const sum = summarise(reports);
  const out: string[] = [];
  out.push(`## Warden twin: ${sum.passed}/${sum.total} scenarios passed`);
  out.push('');
  out.push(
    '| scenario | result | decisions (allow / deny / approval / halt) | stopped by | irreversible | bytes out | secrets leaked | alerts |',
  );
  out.push('|---|---|---|---|---|---|---|---|');
  for (const r of reports) {
    const w = r.warden;
    const b = r.baseline;
    const stopBy = w
      ? [...new Set(w.stops.map((s) => `${s.control} (${s.risk})`))].slice(0, 3).join(', ') || '—'
      : 'controls off';
    const pair = (name: CapName) => {
      const cap = (w ?? b)?.caps.find((c) => c.name === name);
      const fmt = (run: ScenarioRun | undefined) => (run ? capValue(name, run.blast[name]) : '—');
      return `${fmt(w)}${b ? ` (without: ${fmt(b)})` : ''}${cap ? `, cap ${capValue(name, cap.cap)}` : ''}`;
    };
    const c = (w ?? b)?.counts;
    out.push(
      `| ${mdCell(`${r.id}: ${r.title}`)} | ${r.passed ? '✅ pass' : '❌ fail'} | ${c ? `${c.allow} / ${c.deny} / ${c.approve} / ${c.halt}` : '—'} | ${mdCell(stopBy)} | ${pair('irreversible')} | ${pair('bytesOut')} | ${pair('secrets')} | ${w ? w.alerts.length : '—'} |`,
    );
  }
  const failing = reports.filter((r) => !r.passed);
  if (failing.length > 0) {
    out.push('', '### Failures', '');
    for (const r of failing) {
      const run = r.warden ?? r.baseline;
      if (!run) continue;
      out.push(`**${mdCell(r.id)}** (${mdCell(fileOf(r.file))})`, '');
      if (run.error) out.push(`- error: ${mdCell(run.error)}`);
      for (const c of run.caps.filter((x) => x.exceeded))
        out.push(
          `- cap exceeded: ${CAP_LABELS[c.name]} ${capValue(c.name, c.actual)} > ${capValue(c.name, c.cap)}`,
        );
      for (const e of run.expectations.filter((x) => !x.ok).slice(0, 20))
        out.push(`- \`${mdCell(e.where)}\`: ${mdCell(e.actual)}`);
      out.push('');
    }
  }
  return out.join('\n') + '\n';
}

/** The short account of one incident `warden demo` prints. */
export interface DemoLine {
  n: number;
  title: string;
  without: string;
  withWarden: string;
  stopped: boolean;
}

const VERB: Record<Verdict, string> = { deny: 'denied', approve: 'held', halt: 'halted', allow: 'allowed' };

/** What Warden did, in a few words: the controls that stopped the incident and what became of the calls. */
function stoppedBy(run: ScenarioRun): string {
  const shown = run.highlights
    .slice(0, 2)
    .map((h) => `${h.control} ${h.risk}: ${h.count} ${VERB[h.verdict]}`);
  if (run.highlights.length > 2) shown.push(`+${run.highlights.length - 2} more`);
  // Alerts whose actions stopped the agent (kill, quarantine) are part of the story; others are not.
  const acting = [
    ...new Set(
      run.alerts.filter((a) => a.actions.some((x) => x === 'kill' || x === 'quarantine')).map((a) => a.rule),
    ),
  ];
  return `${shown.join(' · ')}${acting.length > 0 ? ` (alert ${acting.join(', ')})` : ''}`;
}

/** One line per incident: what happened without Warden and what Warden stopped. */
export function demoLines(reports: readonly ScenarioReport[]): DemoLine[] {
  return reports.map((r, i) => {
    const w = r.warden;
    const b = r.baseline;
    const without = b ? (b.error ? `error: ${b.error}` : describeDamage(b.blast)) : '(not run)';
    const damaged = b !== undefined && b.capsExceeded;
    let withWarden: string;
    if (!w) withWarden = 'NOT RUN';
    else if (w.error) withWarden = `ERROR: ${w.error}`;
    else if (r.stopped && damaged) withWarden = `STOPPED  ${stoppedBy(w)}`;
    else if (r.stopped) withWarden = 'NOT SHOWN: without Warden the script stays within its caps';
    else {
      const why = [
        w.stops.length === 0 ? 'nothing was stopped' : '',
        w.capsExceeded
          ? `caps exceeded (${w.caps
              .filter((c) => c.exceeded)
              .map((c) => CAP_LABELS[c.name])
              .join(', ')})`
          : '',
        w.failedExpectations > 0
          ? `${w.failedExpectations} expectation${w.failedExpectations === 1 ? '' : 's'} failed`
          : '',
      ].filter(Boolean);
      withWarden = `NOT STOPPED: ${why.join('; ')}`;
    }
    return { n: i + 1, title: r.title, without, withWarden, stopped: r.stopped && damaged };
  });
}

/** The demo screen: a header, one aligned line per incident, a summary line. */
export function formatDemo(reports: readonly ScenarioReport[], elapsedMs: number): string {
  const lines = demoLines(reports);
  const titleW = Math.min(36, Math.max(8, ...lines.map((l) => l.title.length)));
  const withoutW = Math.min(36, Math.max(14, ...lines.map((l) => l.without.length)));
  const out: string[] = [];
  out.push('Warden demo: agent-security incidents of Q1 2026, replayed in a digital twin.');
  out.push('Each runs twice on simulated tools (nothing real is touched): unguarded, then under the real');
  out.push(
    'Warden pipeline with a fresh embedded store. Stops name the control and the OWASP Agentic risk id.',
  );
  out.push('');
  out.push(`  #  ${pad('incident', titleW)}  ${pad('without Warden', withoutW)}  with Warden`);
  for (const l of lines) {
    out.push(
      ` ${padStart(String(l.n), 2)}  ${pad(clip(l.title, titleW), titleW)}  ${pad(clip(l.without, withoutW), withoutW)}  ${l.withWarden}`,
    );
  }
  const stopped = lines.filter((l) => l.stopped).length;
  out.push('');
  out.push(
    `${lines.length} incident${lines.length === 1 ? '' : 's'}, ${stopped} stopped${stopped === lines.length ? '.' : ` — ${lines.length - stopped} NOT stopped.`} (${(elapsedMs / 1000).toFixed(1)} s)`,
  );
  out.push(
    'Every decision, step by step: warden twin run examples/ --baseline -v   ·   write your own: docs/twin.md',
  );
  return out.join('\n') + '\n';
}
