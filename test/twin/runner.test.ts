import { verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { parsePublicKey } from '../../src/observe/messages/keys.js';
import { checkAlerts, checkExpectation, runScenario, runScenarioPair } from '../../src/twin/runner.js';
import { alerting, CONFIG, refusing, scenario } from './helpers.js';

const DEPLOY = `id: deploy
title: deploy twice
baseline: true
${CONFIG}
world:
  repositories: [{ id: R1, name: site }]
simulate:
  deploy: { effect: deployments.create, args: { repo: repoId } }
  write_doc: { effect: files.write, args: { path: path, content: text } }
script:
  - call: { tool: write_doc, args: { path: notes.md, text: hello } }
    expect: allow
  - call: { tool: deploy, args: { repoId: R1 } }
    label: the deploy
    expect: { verdict: deny, control: test-control, risk: ASI02 }
caps: { irreversible: 0, resources: 1 }
`;

describe('twin runs', () => {
  it('runs under Warden: refused calls do not touch the world; the baseline runs everything', async () => {
    const loaded = scenario(DEPLOY);
    const w = await runScenario(loaded, { mode: 'warden', extensions: refusing({ deploy: 'deny' }) });
    expect(w.error).toBeUndefined();
    expect(w.counts).toEqual({ allow: 1, deny: 1, approve: 0, halt: 0 });
    expect(w.world.deployments).toEqual([]);
    expect(w.world.files['notes.md']).toBe('hello');
    expect(w.stops).toEqual([
      expect.objectContaining({
        index: 2,
        label: 'the deploy',
        verdict: 'deny',
        control: 'test-control',
        risk: 'ASI02',
      }),
    ]);
    expect(w.blast).toMatchObject({ irreversible: 0, resources: 1 });
    expect(w.expectations.every((e) => e.ok)).toBe(true);
    expect(w.passed).toBe(true);
    expect(w.ledger).toEqual({ records: expect.any(Number), intact: true });
    expect(w.highlights).toEqual([{ control: 'test-control', risk: 'ASI02', verdict: 'deny', count: 1 }]);

    const b = await runScenario(loaded, { mode: 'baseline' });
    expect(b.counts.allow).toBe(2);
    expect(b.world.deployments).toHaveLength(1);
    expect(b.blast).toMatchObject({ irreversible: 1, resources: 2 });
    expect(b.capsExceeded).toBe(true);
    expect(b.expectations).toEqual([]);
    expect(b.passed).toBe(false);
  });

  it('fails a run whose caps are exceeded, and one whose expectations do not hold', async () => {
    const loaded = scenario(DEPLOY);
    const w = await runScenario(loaded, { mode: 'warden', extensions: () => [] });
    expect(w.counts.allow).toBe(2);
    expect(w.caps.find((c) => c.name === 'irreversible')).toEqual({
      name: 'irreversible',
      cap: 0,
      actual: 1,
      exceeded: true,
    });
    expect(w.capsExceeded).toBe(true);
    expect(w.failedExpectations).toBe(1);
    expect(w.expectations.find((e) => !e.ok)?.actual).toBe(
      'expected deny by test-control (ASI02), got allow',
    );
    expect(w.steps[1]?.failures).toHaveLength(1);
    expect(w.passed).toBe(false);
  });

  it('runs the core pipeline with the default modules (unknown tools and shadow agents are denied)', async () => {
    const loaded = scenario(`id: core\ntitle: core\n${CONFIG}
script:
  - call: { tool: rm_rf }
    expect: { verdict: deny, control: unknown-tool }
  - call: { tool: read_doc }
    agent: ghost
    expect: { verdict: deny, control: shadow-agent, risk: ASI10 }
caps: { irreversible: 0 }
`);
    const w = await runScenario(loaded);
    expect(w.error).toBeUndefined();
    expect(w.expectations.map((e) => e.actual)).toEqual(['as expected', 'as expected']);
  });

  it('drives the pipeline with the scripted clock', async () => {
    const seen = { now: [] as number[], events: [] as unknown[] };
    const loaded = scenario(`id: clock\ntitle: clock\n${CONFIG}
clock: { start: "2026-01-01T00:00:00Z" }
script:
  - repeat: 88
    every: 1.16s
    steps: [{ call: { tool: send, args: { n: "{{i}}" } } }]
caps: { bytesOut: 100000 }
`);
    const started = performance.now();
    const w = await runScenario(loaded, { mode: 'warden', extensions: refusing({}, seen as never) });
    expect(performance.now() - started).toBeLessThan(30_000);
    const calls = seen.now.filter((_, i) => (seen.events[i] as { kind: string }).kind === 'tool.call');
    expect(calls).toHaveLength(88);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(calls[0]).toBe(t0 + 1000);
    expect((calls[87] ?? 0) - (calls[0] ?? 0)).toBe(87 * 1160);
    expect(w.simulatedMs).toBe(1000 + 87 * 1160);
  });

  it('checks ranged expectations in repeats, and a kill step halts what follows', async () => {
    const loaded = scenario(`id: kill\ntitle: kill\n${CONFIG}
script:
  - repeat: 6
    steps:
      - call: { tool: write_doc, args: { n: "{{i}}" } }
        expect: [{ to: 3, verdict: allow }, { from: 4, verdict: halt, control: kill-switch, risk: ASI10 }]
  - kill: { scope: agent, target: bot, reason: runaway }
    at: 3.5s
caps: { irreversible: 0 }
`);
    // The kill step sits after the repeat in the file but its \`at\` is earlier than the repeat's end: refused.
    await expect(runScenario(loaded, { extensions: () => [] })).rejects.toThrow(/cannot be planned/);
    const ok = scenario(`id: kill\ntitle: kill\n${CONFIG}
script:
  - repeat: 3
    steps:
      - call: { tool: write_doc, args: { n: "{{i}}" } }
        expect: allow
  - kill: { scope: agent, target: bot, reason: runaway }
  - repeat: 3
    steps:
      - call: { tool: write_doc, args: { n: "b{{i}}" } }
        expect: [{ to: 1, verdict: halt, control: kill-switch, risk: ASI10 }, { from: 2, verdict: allow }]
caps: { resources: 10 }
`);
    const w = await runScenario(ok, { extensions: () => [] });
    expect(w.counts).toEqual({ allow: 3, deny: 0, approve: 0, halt: 3 });
    const failed = w.expectations.filter((e) => !e.ok);
    expect(failed).toHaveLength(2);
    expect(failed[0]?.where).toMatch(/script\[2\]\.steps\[0\] #2/);
    expect(w.blast.resources).toBe(3);
    const b = await runScenario(ok, { mode: 'baseline' });
    expect(b.steps[3]?.note).toMatch(/no effect without Warden/);
  });

  it('signs agent messages with twin keys the config learns', async () => {
    const seen = {
      now: [] as number[],
      events: [] as { kind: string; message?: { envelope?: Record<string, unknown>; payload: string } }[],
    };
    const loaded = scenario(`id: msg\ntitle: msg
config:
  version: 1
  agents: [{ id: a, owner: o, phase: senior }, { id: b, owner: o, phase: senior }]
keys: [a]
script:
  - message: { from: a, to: b, payload: hello, sign: a }
  - message: { from: a, to: b, payload: hello, replay: true }
  - message: { from: a, to: b, payload: hi, sign: a, tamper: true }
  - message: { from: a, to: b, payload: unsigned }
caps: { resources: 5 }
`);
    let publicKey: string | undefined;
    await runScenario(loaded, {
      extensions: () => [
        {
          name: 'capture',
          setup: (rt) => {
            publicKey = rt.policy.agent('a')?.publicKey;
            return refusing({}, seen as never)()[0]!.setup(rt);
          },
        },
      ],
    });
    const msgs = seen.events.filter((e) => e.kind === 'message').map((e) => e.message!);
    expect(msgs).toHaveLength(4);
    const env = msgs[0]!.envelope as Record<string, unknown>;
    expect(env).toMatchObject({ v: 1, alg: 'ed25519', from: 'a', to: 'b' });
    const { sig, ...signed } = env;
    expect(
      verify(
        null,
        Buffer.from(canonicalJson(signed)),
        parsePublicKey(publicKey!),
        Buffer.from(sig as string, 'base64'),
      ),
    ).toBe(true);
    expect(msgs[1]!.envelope).toEqual(env);
    expect(msgs[2]!.payload).toBe('hi (amended)');
    expect(msgs[3]!.envelope).toBeUndefined();
  });

  it('reads alerts from the store and checks alert expectations', async () => {
    const loaded = scenario(`id: alerts\ntitle: alerts\n${CONFIG}
script:
  - call: { tool: read_doc }
  - call: { tool: read_doc }
caps: { irreversible: 0 }
expect:
  alerts:
    - { rule: "test-*", severity: [high, critical], agent: bot, min: 2, max: 2 }
    - { rule: other, min: 1 }
`);
    const w = await runScenario(loaded, { extensions: alerting('read_doc') });
    expect(w.alerts).toHaveLength(2);
    expect(w.alerts[0]).toMatchObject({
      rule: 'test-rule',
      severity: 'high',
      agent: 'bot',
      actions: ['record'],
    });
    expect(w.expectations.map((e) => e.ok)).toEqual([true, false]);
    expect(checkAlerts([{ min: 0, max: 0 }], w.alerts)[0]?.ok).toBe(false);
  });

  it('reports a review step that has nothing to review, or no approvals service', async () => {
    const loaded = scenario(`id: review\ntitle: review\n${CONFIG}
script:
  - review: { decision: approve, by: carol }
  - call: { tool: deploy, args: { x: 1 } }
    expect: approve
  - review: { decision: approve, by: carol }
caps: { irreversible: 1 }
`);
    const w = await runScenario(loaded, { extensions: refusing({ deploy: 'approve' }) });
    // Without the actions module an approval cannot be stored: the core denies, fail-closed.
    expect(w.steps[1]?.verdict).toBe('deny');
    expect(w.steps[0]?.failures).toEqual(['no held call is waiting for review']);
    expect(w.passed).toBe(false);
  });

  it('turns a setup failure into a failed run with the error, not an exception', async () => {
    const loaded = scenario(DEPLOY);
    const w = await runScenario(loaded, {
      extensions: () => [{ name: 'broken', setup: () => Promise.reject(new Error('module exploded')) }],
    });
    expect(w.error).toBe('module exploded');
    expect(w.passed).toBe(false);
  });

  it('pairs runs: stopped needs a passing Warden run with at least one stop', async () => {
    const loaded = scenario(DEPLOY);
    const pair = await runScenarioPair(loaded);
    expect(pair.baseline).toBeDefined();
    const off = await runScenarioPair(loaded, { controls: 'off' });
    expect(off.warden).toBeUndefined();
    expect(off.passed).toBe(false);
    expect(off.stopped).toBe(false);
    const noBaseline = await runScenarioPair(loaded, { baseline: false });
    expect(noBaseline.baseline).toBeUndefined();
  });

  it('matches expectations on verdict, control and risk of the same reason', () => {
    const reasons = [
      { control: 'taint', domain: 2 as const, risk: 'ASI01' as const, message: '' },
      { control: 'verification', domain: 3 as const, risk: 'ASI02' as const, message: '' },
    ];
    expect(
      checkExpectation({ verdict: ['deny'], control: ['verification'], risk: ['ASI02'] }, 'deny', reasons),
    ).toBeUndefined();
    expect(
      checkExpectation({ verdict: ['deny'], control: ['verification'], risk: ['ASI01'] }, 'deny', reasons),
    ).toMatch(/expected deny by verification \(ASI01\)/);
    expect(checkExpectation({ verdict: ['allow'] }, 'deny', reasons)).toBe(
      'expected allow, got deny by taint (ASI01), verification (ASI02)',
    );
  });
});
