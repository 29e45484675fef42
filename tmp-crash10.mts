import { CedarEngine } from './src/actions/grants/cedar.ts';
import { GrantMatcher } from './src/actions/grants/matcher.ts';
import { parseConfig } from './src/config/load.ts';
import { Policy } from './src/config/policy.ts';
const CEDAR = `forbid(principal, action == Action::"deploy", resource) when { context.args has env && context.args.env == "prod" && context.args has day && context.args.day == "fri" };
${Array.from({ length: 20 }, (_, i) => `forbid(principal == Agent::"other-${i}", action, resource);`).join('\n')}`;
for (let e = 0; e < 8; e++) {
  const n = e % 2 ? 1000 : 10;
  const lines: string[] = [];
  for (let i = 0; i < n - 1; i++) lines.push(`      - { tool: deploy, where: { repoId: "org/repo-${i}", env: [staging, prod] } }`);
  lines.push('      - { tool: deploy, where: { repoId: "acme/*", env: [staging, prod] } }');
  const text = `version: 1\nagents:\n  - id: bot\n    owner: o\n    phase: principal\n    grants:\n${lines.join('\n')}\ntools:\n  - { name: deploy, class: read }\nactions:\n  cedar:\n    policies: |\n${CEDAR.split('\n').map((l) => '      ' + l).join('\n')}\n`;
  const p = new Policy(parseConfig(text));
  const m = new GrantMatcher(p);
  const engine = CedarEngine.fromPolicy(p)!;
  const agent = p.agent('bot')!; const tool = p.tool('deploy')!;
  const call = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod', day: 'mon' } };
  for (let i = 0; i < 40_000; i++) {
    const v = { kind: "allow" };
    if (v.kind === 'allow') engine.evaluate({ agent, tool, call, actor: { agent: 'bot', session: 's' }, phase: 'principal', taint: 1, now: 0 });
  }
  process.stderr.write(`engine ${e} ok\n`);
}
console.log('ok');
