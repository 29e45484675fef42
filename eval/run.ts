/**
 * `npm run eval`: runs every evaluation in turn (injection detection, tool-definition poisoning, AgentDojo
 * replay), each printing its own table, then writes eval/results/latest.json with all three reports and
 * the machine they ran on.
 *
 *   npm run eval [-- --data ../shared/data]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dataFlag = args.indexOf('--data');
const dataDir = resolve(
  (dataFlag >= 0 ? args[dataFlag + 1] : undefined) ?? join(here, '..', '..', 'shared', 'data'),
);
if (!existsSync(join(dataDir, 'agentdojo', 'traces-v1.2.1.json'))) {
  process.stderr.write(
    `eval: no evaluation data under ${dataDir}; pass --data <dir holding agentdojo/, bipia/, ...>\n`,
  );
  process.exit(2);
}

const runs = [
  { name: 'detection', script: 'detection-main.ts', args: ['--data', dataDir], out: 'detection.json' },
  {
    name: 'tool-definitions',
    script: 'tool-definitions-main.ts',
    args: ['--data', dataDir],
    out: 'tool-definitions.json',
  },
  { name: 'agentdojo', script: 'agentdojo-main.ts', args: [dataDir], out: 'agentdojo.json' },
];

const tsx = join(here, '..', 'node_modules', '.bin', 'tsx');
const combined: Record<string, unknown> = {};
let failed = 0;
for (const [i, run] of runs.entries()) {
  process.stderr.write(`\n[${i + 1}/${runs.length}] ${run.name}\n`);
  const r = spawnSync(tsx, [join(here, run.script), ...run.args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`eval: ${run.name} exited with ${r.status}\n`);
    continue;
  }
  combined[run.name] = JSON.parse(readFileSync(join(here, 'results', run.out), 'utf8')) as unknown;
}
writeFileSync(
  join(here, 'results', 'latest.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
      command: 'npm run eval',
      data: dataDir,
      ...combined,
    },
    null,
    2,
  ) + '\n',
);
process.stderr.write(`\nwrote eval/results/latest.json${failed ? `; ${failed} evaluation(s) failed` : ''}\n`);
process.exitCode = failed ? 1 : 0;
