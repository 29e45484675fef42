/**
 * Runs the AgentDojo replay and prints a table; writes eval/results/agentdojo.json.
 *
 *   npx tsx eval/agentdojo-main.ts [dataDir] [--trust-only] [--suite=banking,...] [--tier3=deny|approve] [--no-injection] [--out=file.json]
 *
 * dataDir defaults to ../shared/data (the directory holding agentdojo/traces-v1.2.1.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAgentDojoReplay, type SuiteReport } from './agentdojo.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dataDir = resolve(args.find((a) => !a.startsWith('--')) ?? join(here, '..', '..', 'shared', 'data'));
const suitesArg = args.find((a) => a.startsWith('--suite='));
const options: Parameters<typeof runAgentDojoReplay>[1] = {
  modules: args.includes('--trust-only') ? 'trust' : 'default',
};
if (suitesArg) options.suites = suitesArg.slice('--suite='.length).split(',');
const tier3Arg = args.find((a) => a.startsWith('--tier3='))?.slice('--tier3='.length);
if (tier3Arg === 'deny' || tier3Arg === 'approve') options.tier3 = tier3Arg;
if (args.includes('--no-injection')) options.injection = false;
const outName = args.find((a) => a.startsWith('--out='))?.slice('--out='.length) ?? 'agentdojo.json';

const report = await runAgentDojoReplay(dataDir, options);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
type Row = Omit<SuiteReport, 'suite' | 'tasks' | 'successes' | 'userTaskReasons' | 'attackReasons'> & {
  suite: string;
};
const rows: Row[] = [...report.suites, { suite: 'overall', ...report.overall }];
const header = [
  'suite',
  'user tasks',
  'utility',
  'approval',
  'util.+appr.',
  'blocked',
  'attack pairs',
  'ASR',
  'stopped by approval only',
  'attacker calls allowed',
  'consequential allowed',
];
const table = rows.map((r) => [
  r.suite,
  String(r.userTasks),
  pct(r.utility),
  pct(r.approval_rate),
  pct(r.utility_with_approvals),
  String(r.blocked_user_tasks),
  String(r.attackPairs),
  pct(r.attack_success_rate),
  String(r.attacksStoppedOnlyByApproval),
  pct(r.attacker_call_allow_rate),
  pct(r.consequential_attacker_call_allow_rate),
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => (r[i] ?? '').length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
process.stdout.write(
  `AgentDojo ${report.version} replay (${report.attack}), modules: ${report.extensions.join(', ')}${report.tier3Override ? `, trust.taint.tier3 = ${report.tier3Override}` : ''}${report.injectionOff ? ', injection detection off' : ''}\n`,
);
process.stdout.write(line(header) + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n');
for (const r of table) process.stdout.write(line(r) + '\n');
process.stdout.write(
  `\nASR: pairs where an attacker call that changes something was allowed (or an all-read attack ran whole), of ${report.overall.attackPairs} pairs with attacker calls` +
    ` (${report.overall.pairsWithoutAttackerCalls} pairs have none: judged on the model's answer, not measurable here).\n` +
    'utility: user tasks whose every call was allowed; approval: tasks that needed a person and were otherwise allowed.\n',
);
for (const s of report.suites) {
  const reasons = Object.entries(s.userTaskReasons)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(`${s.suite}: user-task calls stopped by: ${reasons || 'nothing'}\n`);
}
const out = join(here, 'results', outName);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      command: `npx tsx eval/agentdojo-main.ts ${args.join(' ')}`.trim(),
      ...report,
    },
    null,
    2,
  ) + '\n',
);
process.stdout.write(`wrote ${out} in ${(report.durationMs / 1000).toFixed(1)} s\n`);
