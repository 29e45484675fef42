import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reason, type StageOutcome } from '../../src/core/decision.js';
import type { Verdict } from '../../src/core/types.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import type { Stage, StageContext } from '../../src/pipeline/stage.js';

const ctx = {
  event: { kind: 'tool.call', actor: { agent: 'a', session: 's' }, call: { tool: 't', args: {} } },
} as unknown as StageContext;

function stage(name: string, order: number, out: StageOutcome | undefined | (() => unknown)): Stage {
  return {
    name,
    order,
    evaluate: () => (typeof out === 'function' ? (out() as StageOutcome) : out),
  };
}

const r = (m: string) => reason('test', 3, 'ASI02', m);

describe('Pipeline', () => {
  it('allows when no stage objects', async () => {
    const p = new Pipeline([stage('a', 1, undefined), stage('b', 2, { verdict: 'allow', reasons: [] })], {
      stageTimeoutMs: 100,
    });
    expect((await p.run(ctx)).verdict).toBe('allow');
  });

  it('stops at the first deny and keeps earlier approval reasons', async () => {
    let ranAfter = false;
    const p = new Pipeline(
      [
        stage('approve', 1, { verdict: 'approve', reasons: [r('needs a person')] }),
        stage('deny', 2, { verdict: 'deny', reasons: [r('no')] }),
        stage('after', 3, () => {
          ranAfter = true;
          return undefined;
        }),
      ],
      { stageTimeoutMs: 100 },
    );
    const out = await p.run(ctx);
    expect(out.verdict).toBe('deny');
    expect(out.reasons.map((x) => x.message)).toEqual(['no', 'needs a person']);
    expect(ranAfter).toBe(false);
  });

  it('runs stages in order regardless of registration order', async () => {
    const seen: string[] = [];
    const mk = (n: string, o: number): Stage => ({ name: n, order: o, evaluate: () => void seen.push(n) });
    await new Pipeline([mk('c', 30), mk('a', 10), mk('b', 20)], { stageTimeoutMs: 100 }).run(ctx);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('fails closed when a stage throws, rejects, times out or returns garbage', async () => {
    const cases: Stage[] = [
      stage('throws', 1, () => {
        throw new Error('boom');
      }),
      { name: 'rejects', order: 1, evaluate: () => Promise.reject(new Error('nope')) },
      { name: 'hangs', order: 1, evaluate: () => new Promise<undefined>(() => undefined) },
      stage('garbage', 1, () => ({ verdict: 'maybe', reasons: [] })),
      stage('no-reason', 1, () => ({ verdict: 'deny', reasons: [] })),
    ];
    for (const s of cases) {
      const out = await new Pipeline([s], { stageTimeoutMs: 20 }).run(ctx);
      expect(out.verdict, s.name).toBe('deny');
      expect(out.reasons[0]?.control).toBe('fail-closed');
      expect(out.reasons[0]?.message).toContain(s.name);
    }
  });

  it('only runs stages for their event kinds', async () => {
    let ran = false;
    const s: Stage = { name: 'ingest-only', order: 1, kinds: ['ingest'], evaluate: () => void (ran = true) };
    await new Pipeline([s], { stageTimeoutMs: 100 }).run(ctx);
    expect(ran).toBe(false);
  });

  it('rejects two stages with one name', () => {
    expect(
      () => new Pipeline([stage('x', 1, undefined), stage('x', 2, undefined)], { stageTimeoutMs: 1 }),
    ).toThrow(/named x/);
  });

  it('deny wins for any order and any mix of outcomes (property)', async () => {
    const verdict = fc.constantFrom<Verdict | 'none'>('allow', 'deny', 'approve', 'halt', 'none');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(verdict, fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 12 }),
        async (specs) => {
          const stages = specs.map(([v, order], i) =>
            stage(`s${i}`, order, v === 'none' ? undefined : { verdict: v, reasons: [r(v)] }),
          );
          const out = await new Pipeline(stages, { stageTimeoutMs: 100 }).run(ctx);
          const vs = specs.map(([v]) => v);
          if (vs.includes('deny') || vs.includes('halt')) expect(['deny', 'halt']).toContain(out.verdict);
          else if (vs.includes('approve')) expect(out.verdict).toBe('approve');
          else expect(out.verdict).toBe('allow');
          // Never allow when any stage objected.
          if (vs.some((v) => v === 'deny' || v === 'halt' || v === 'approve'))
            expect(out.verdict).not.toBe('allow');
        },
      ),
      { numRuns: 300 },
    );
  });
});
