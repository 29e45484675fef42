import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planScenario } from '../../src/twin/runner.js';
import {
  loadScenarioFile,
  parseDuration,
  parseScenario,
  ScenarioError,
  template,
  formatScenarioError,
} from '../../src/twin/scenario-schema.js';
import { CONFIG } from './helpers.js';

function issuesOf(yaml: string): { path: string; message: string; fix?: string }[] {
  try {
    parseScenario(yaml);
  } catch (error) {
    expect(error).toBeInstanceOf(ScenarioError);
    return (error as ScenarioError).issues;
  }
  throw new Error('expected the scenario to be refused');
}

const OK = `id: t
title: test
${CONFIG}
script:
  - call: { tool: read_doc, args: { id: 1 } }
caps: { irreversible: 0 }
`;

describe('scenario files', () => {
  it('parses a minimal scenario and applies defaults', () => {
    const { scenario } = parseScenario(OK);
    expect(scenario.id).toBe('t');
    expect(scenario.baseline).toBe(false);
    expect(scenario.clock.tick).toBe(1000);
    expect(scenario.clock.start).toBe(Date.parse('2026-03-02T09:00:00Z'));
    expect(scenario.world.files).toEqual({});
    expect(scenario.script[0]).toMatchObject({ kind: 'call', call: { tool: 'read_doc', args: { id: 1 } } });
    expect(scenario.config.agents[0]?.id).toBe('bot');
  });

  it('accepts the shorthand forms of expect', () => {
    const { scenario } = parseScenario(
      OK.replace(
        'args: { id: 1 } }',
        `args: { id: 1 } }
    expect: deny
  - call: { tool: read_doc }
    expect: [allow, approve]
  - call: { tool: read_doc }
    expect: { verdict: deny, control: verification, risk: ASI02 }
  - call: { tool: read_doc }
    expect: [{ to: 3, verdict: allow }, { from: 4, verdict: [halt, deny] }]`,
      ),
    );
    const exps = scenario.script.map((s) => (s.kind === 'call' ? s.expect : undefined));
    expect(exps[0]).toEqual([{ verdict: ['deny'] }]);
    expect(exps[1]).toEqual([{ verdict: ['allow', 'approve'] }]);
    expect(exps[2]).toEqual([{ verdict: ['deny'], control: ['verification'], risk: ['ASI02'] }]);
    expect(exps[3]).toEqual([
      { to: 3, verdict: ['allow'] },
      { from: 4, verdict: ['halt', 'deny'] },
    ]);
  });

  it('names the path, the problem and the fix for each mistake', () => {
    const issues = issuesOf(`id: t
title: test
${CONFIG}
script:
  - call: { tool: read_doc }
    ingest: { source: user, text: hi }
  - { label: nothing }
  - call: { tool: read_doc, argz: {} }
  - call: { tool: read_doc }
    expect: { verdict: maybe }
  - wait: soon
  - repeat: 2
    steps:
      - repeat: 2
        steps: [{ wait: 1s }]
caps: { irreversible: 0 }
`);
    const at = (p: string) => issues.find((i) => i.path === p);
    expect(at('script[0]')?.message).toMatch(/several kinds \(ingest, call\)/);
    expect(at('script[0]')?.fix).toMatch(/exactly one of/);
    expect(at('script[1]')?.message).toMatch(/does not say what it does/);
    expect(at('script[2].call')?.message).toMatch(/unknown key `argz`/);
    expect(at('script[2].call')?.fix).toMatch(/spelling/);
    expect(at('script[3].expect[0].verdict[0]')?.fix).toMatch(/"allow", "deny", "approve", "halt"/);
    expect(at('script[4].wait')?.message).toMatch(/duration like 250ms/);
    expect(at('script[5].steps[0]')?.message).toMatch(/cannot be nested/);
  });

  it('refuses unknown top-level keys, a missing config and empty caps', () => {
    const issues = issuesOf(`id: t\ntitle: test\nscript: [{ wait: 1s }]\ncaps: {}\nbaselines: true\n`);
    expect(issues.some((i) => i.path === '(root)' && /unknown key `baselines`/.test(i.message))).toBe(true);
    expect(issues.some((i) => i.path === 'caps' && /at least one cap/.test(i.message))).toBe(true);
    const noConfig = issuesOf(`id: t\ntitle: test\nscript: [{ wait: 1s }]\ncaps: { bytesOut: 0 }\n`);
    expect(noConfig).toContainEqual(expect.objectContaining({ path: 'config', message: 'missing' }));
  });

  it('reports warden.yaml problems under config.', () => {
    const issues = issuesOf(`id: t
title: test
config:
  version: 1
  agents: [{ id: bot, owner: alice, phase: boss }]
script: [{ wait: 1s }]
caps: { irreversible: 0 }
`);
    expect(issues[0]?.path).toBe('config.agents[0].phase');
    expect(issues[0]?.fix).toMatch(/intern/);
  });

  it('cross-checks simulators, keys, signers and which agent acts', () => {
    const issues = issuesOf(`id: t
title: test
config:
  version: 1
  agents: [{ id: a, owner: o }, { id: b, owner: o }]
  tools: [{ name: t1, class: read }]
keys: [ghost]
simulate: { t2: files.read }
script:
  - call: { tool: t1 }
  - message: { from: a, to: b, payload: hi, sign: b }
caps: { irreversible: 0 }
`);
    expect(issues.map((i) => i.path)).toEqual(
      expect.arrayContaining(['simulate.t2', 'keys[0]', 'script[0]', 'script[1].message.sign']),
    );
  });

  it('refuses an unknown simulator effect with the list to choose from', () => {
    const issues = issuesOf(OK.replace('script:', 'simulate: { read_doc: files.teleport }\nscript:'));
    expect(issues[0]?.path).toBe('simulate.read_doc.effect');
    expect(issues[0]?.fix).toMatch(/files\.read/);
  });

  it('reports YAML syntax errors with a line and column', () => {
    const issues = issuesOf('id: t\ntitle: [unclosed\n');
    expect(issues[0]?.path).toMatch(/^line \d+, column \d+$/);
  });

  it('loads config from a path relative to the scenario file, and names the file in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'twin-schema-'));
    writeFileSync(join(dir, 'warden.yaml'), 'version: 1\nagents: [{ id: bot, owner: alice }]\n');
    writeFileSync(
      join(dir, 'ok.scenario.yaml'),
      'title: from a file\nconfig: ./warden.yaml\nscript: [{ wait: 1s }]\ncaps: { bytesOut: 0 }\n',
    );
    const loaded = loadScenarioFile(join(dir, 'ok.scenario.yaml'));
    expect(loaded.scenario.id).toBe('ok');
    expect(loaded.scenario.config.agents[0]?.id).toBe('bot');
    writeFileSync(
      join(dir, 'bad.scenario.yaml'),
      'title: x\nconfig: ./missing.yaml\nscript: [{ wait: 1s }]\ncaps: { bytesOut: 0 }\n',
    );
    try {
      loadScenarioFile(join(dir, 'bad.scenario.yaml'));
      expect.unreachable();
    } catch (error) {
      const text = formatScenarioError(error as ScenarioError);
      expect(text).toContain('bad.scenario.yaml does not validate');
      expect(text).toMatch(/- config: cannot read .*missing\.yaml/);
    }
    expect(() => loadScenarioFile(join(dir, 'nope.scenario.yaml'))).toThrow(ScenarioError);
  });

  it('expands repeats with {{i}} and {{n}} and scripts the clock', () => {
    const { scenario } = parseScenario(`id: t
title: test
${CONFIG}
clock: { tick: 2s }
script:
  - call: { tool: read_doc }
  - repeat: 88
    every: 1.16s
    steps:
      - call: { tool: send, args: { text: "comment {{i}} of {{n}}" } }
  - wait: 10s
  - call: { tool: read_doc }
    at: 200s
caps: { irreversible: 0 }
`);
    const plan = planScenario(scenario);
    expect(plan).toHaveLength(1 + 88 + 1 + 1);
    expect(plan[0]?.time).toBe(2000);
    expect(plan[1]?.time).toBe(4000);
    expect(plan[88]?.time).toBe(4000 + 87 * 1160);
    const last = plan[88]?.step;
    expect(last?.kind === 'call' && last.call.args).toEqual({ text: 'comment 88 of 88' });
    expect(plan[89]?.time).toBe(4000 + 87 * 1160 + 10_000);
    expect(plan[90]?.time).toBe(200_000);
  });

  it('refuses a clock that goes backwards and bad templated steps, at plan time', () => {
    const back = parseScenario(
      `id: t\ntitle: t\n${CONFIG}\nscript:\n  - { wait: 10s }\n  - { call: { tool: read_doc }, at: 5s }\ncaps: { irreversible: 0 }\n`,
    );
    expect(() => planScenario(back.scenario)).toThrow(/cannot be planned/);
    try {
      planScenario(back.scenario);
    } catch (error) {
      expect((error as ScenarioError).issues[0]?.path).toBe('script[1].at');
    }
  });

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.16s')).toBe(1160);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration(5)).toBe(5);
    expect(parseDuration('soon')).toBeNaN();
    expect(template({ a: ['x{{i}}', '{{ n }}', '{{other}}'], b: 3 }, { i: '7', n: '9' })).toEqual({
      a: ['x7', '9', '{{other}}'],
      b: 3,
    });
  });
});
