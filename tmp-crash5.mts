import { CedarEngine } from './src/actions/grants/cedar.ts';
import { parseConfig } from './src/config/load.ts';
import { Policy } from './src/config/policy.ts';
const CEDAR = `forbid(principal, action == Action::"deploy", resource) when { context.args has env && context.args.env == "prod" && context.args has day && context.args.day == "fri" };
${Array.from({ length: 20 }, (_, i) => `forbid(principal == Agent::"other-${i}", action, resource);`).join('\n')}`;
const text = `version: 1\nagents:\n  - { id: bot, owner: o, phase: principal }\ntools:\n  - { name: deploy, class: read }\nactions:\n  cedar:\n    policies: |\n${CEDAR.split('\n').map((l) => '      ' + l).join('\n')}\n`;
for (let e = 0; e < 12; e++) {
  const p = new Policy(parseConfig(text));
  const engine = CedarEngine.fromPolicy(p)!;
  const agent = p.agent('bot')!; const tool = p.tool('deploy')!;
  const call = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod', day: 'mon' } };
  for (let i = 0; i < 60_000; i++) engine.evaluate({ agent, tool, call, actor: { agent: 'bot', session: 's' }, phase: 'principal', taint: 1, now: i });
  process.stderr.write(`engine ${e} ok\n`);
}
console.log('ok');
