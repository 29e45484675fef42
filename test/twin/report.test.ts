import { describe, expect, it } from 'vitest';
import {
  demoLines,
  formatDemo,
  formatJson,
  formatMarkdown,
  formatTable,
  groupStops,
  summarise,
} from '../../src/twin/report.js';
import { runScenarioPair, type ScenarioReport } from '../../src/twin/runner.js';
import { CONFIG, refusing, scenario } from './helpers.js';

const BURST = `id: burst
title: a runaway bot
baseline: true
${CONFIG}
simulate:
  send: { effect: posts.create, args: { thread: t, body: b } }
script:
  - repeat: 5
    steps:
      - call: { tool: send, args: { t: "issue-1", b: "comment {{i}}" } }
        expect: [{ to: 2, verdict: allow }, { from: 3, verdict: deny, control: test-control }]
caps: { irreversible: 2 }
`;

/** Two reports: one stopped by a control, one that nothing stopped. */
async function reports(): Promise<ScenarioReport[]> {
  const stopped = await runScenarioPair(scenario(BURST), { extensions: () => [] });
  // Swap in a run where the test control refuses from the third call: stop the scenario for real.
  const { runScenario } = await import('../../src/twin/runner.js');
  let n = 0;
  const w = await runScenario(scenario(BURST), {
    extensions: () => [
      {
        name: 'third',
        setup: () => [
          {
            name: 'third',
            order: 450,
            kinds: ['tool.call'],
            evaluate: () => (++n > 2 ? refusingOutcome() : undefined),
          },
        ],
      },
    ],
  });
  const good: ScenarioReport = {
    ...stopped,
    warden: w,
    passed: w.passed,
    stopped: w.passed && w.stops.length > 0,
  };
  const bad = await runScenarioPair(
    scenario(BURST.replace('id: burst', 'id: unguarded').replace('a runaway bot', 'nobody stops it')),
    { extensions: () => [] },
  );
  return [good, bad];
}

function refusingOutcome() {
  return {
    verdict: 'deny' as const,
    reasons: [{ control: 'test-control', domain: 3 as const, risk: 'ASI02' as const, message: 'too many' }],
  };
}

describe('twin reports', () => {
  it('tells people what passed, what was stopped, and the blast radius against the caps', async () => {
    const [good, bad] = await reports();
    expect(good?.passed).toBe(true);
    expect(bad?.passed).toBe(false);
    const text = formatTable([good!, bad!]);
    expect(text).toMatch(/^PASS {2}burst — a runaway bot/m);
    expect(text).toMatch(/^FAIL {2}unguarded — nobody stops it/m);
    expect(text).toContain('2 allowed · 3 denied · 0 held for approval · 0 halted');
    expect(text).toMatch(/#3–#5 \(3×\) +deny +test-control +ASI02/);
    expect(text).toMatch(/irreversible actions +2 +5 ! +2/);
    expect(text).toContain('✗ cap exceeded: irreversible actions 5 > 2');
    expect(text).toMatch(/expectations {2}5\/5 hold/);
    expect(text).toMatch(/expectations {2}2\/5 hold/);
    expect(text.trimEnd().split('\n').at(-1)).toBe('2 scenarios: 1 passed, 1 failed · 1 stopped by Warden');
    expect(formatTable([good!], { verbose: true })).toMatch(
      / {4}3 +3\.00s bot +deny +comment 3|send .*test-control ASI02/,
    );
  });

  it('groups stops with the same verdict, control, risk and message', () => {
    const stop = (index: number, control: string) => ({
      index,
      label: `s${index}`,
      agent: 'a',
      verdict: 'halt' as const,
      control,
      risk: 'ASI10' as const,
      message: 'm',
      controls: [],
    });
    const groups = groupStops([stop(1, 'a'), stop(2, 'b'), stop(3, 'a')]);
    expect(groups.map((g) => [g.first.index, g.lastIndex, g.count])).toEqual([
      [1, 3, 2],
      [2, 2, 1],
    ]);
  });

  it('writes JSON machines can read, and Markdown for a pull request', async () => {
    const rs = await reports();
    const json = JSON.parse(formatJson(rs)) as {
      version: number;
      summary: unknown;
      scenarios: ScenarioReport[];
    };
    expect(json.version).toBe(1);
    expect(json.summary).toEqual({ total: 2, passed: 1, failed: 1, stopped: 1 });
    expect(json.scenarios[0]?.warden?.blast.irreversible).toBe(2);
    expect(json.scenarios[0]?.baseline?.blast.irreversible).toBe(5);
    const md = formatMarkdown(rs);
    expect(md).toMatch(/^## Warden twin: 1\/2 scenarios passed/);
    expect(md).toContain(
      '| burst: a runaway bot | ✅ pass | 2 / 3 / 0 / 0 | test-control (ASI02) | 2 (without: 5), cap 2 |',
    );
    expect(md).toContain('### Failures');
    expect(md).toContain('- cap exceeded: irreversible actions 5 > 2');
    expect(summarise(rs)).toEqual({ total: 2, passed: 1, failed: 1, stopped: 1 });
  });

  it('prints the demo: damage without Warden, the stopping control with it, and a final count', async () => {
    const rs = await reports();
    const lines = demoLines(rs);
    expect(lines[0]).toMatchObject({
      stopped: true,
      without: '5 posts published, 45 B out',
      withWarden: 'STOPPED  test-control ASI02: 3 denied',
    });
    expect(lines[1]?.stopped).toBe(false);
    expect(lines[1]?.withWarden).toMatch(
      /^NOT STOPPED: nothing was stopped; caps exceeded \(irreversible actions\); 3 expectations failed/,
    );
    const text = formatDemo(rs, 1234);
    expect(text).toContain('2 incidents, 1 stopped — 1 NOT stopped. (1.2 s)');
    expect(text).toMatch(/^ {2}1 {2}a runaway bot +5 posts published, 45 B out +STOPPED/m);
  });

  it('does not call an incident stopped when the run without Warden does no damage', async () => {
    const harmless = await runScenarioPair(
      scenario(
        `id: h\ntitle: harmless\nbaseline: true\n${CONFIG}\nscript: [{ call: { tool: read_doc }, expect: deny }]\ncaps: { irreversible: 0 }\n`,
      ),
      { extensions: () => [] },
    );
    const w = await (
      await import('../../src/twin/runner.js')
    ).runScenario(
      scenario(
        `id: h\ntitle: harmless\n${CONFIG}\nscript: [{ call: { tool: read_doc }, expect: deny }]\ncaps: { irreversible: 0 }\n`,
      ),
      { extensions: refusing({ read_doc: 'deny' }) },
    );
    const line = demoLines([{ ...harmless, warden: w, passed: true, stopped: true }])[0];
    expect(line?.stopped).toBe(false);
    expect(line?.withWarden).toMatch(/NOT SHOWN/);
  });
});
