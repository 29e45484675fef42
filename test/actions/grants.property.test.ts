import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CedarEngine, grantToCedar, parseCedarPolicies } from '../../src/actions/grants/cedar.js';
import { GrantMatcher, type GrantVerdict } from '../../src/actions/grants/matcher.js';
import { compileWhere } from '../../src/actions/grants/schema-compile.js';
import { Policy } from '../../src/config/policy.js';
import { validateConfig } from '../../src/config/load.js';
import type { Grant } from '../../src/config/sections/actions.js';

/**
 * Properties of least privilege, for any grants and any call:
 * - the order of grants never changes a decision;
 * - deny wins: a matching deny grant always refuses;
 * - default deny: without a matching allow grant, nothing is allowed;
 * - the compiled matcher and Cedar (grants translated to Cedar) agree on everything both can express.
 */

const TOOLS = ['deploy', 'pay'];
const WORDS = ['x', 'y', 'ab', 'a1', 'ba', ''];

const stringConstraint = fc.oneof(
  fc.constantFrom(...WORDS.filter((w) => w !== '')),
  fc.uniqueArray(fc.constantFrom(...WORDS.filter((w) => w !== '')), { minLength: 1, maxLength: 3 }),
  fc.constantFrom('a*', '*b', '*', 'a*1'),
  fc.record({ prefix: fc.constantFrom('a', 'b') }),
);
const numberConstraint = fc.oneof(
  fc.record({ max: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ min: fc.integer({ min: 0, max: 100 }) }),
  fc
    .integer({ min: 0, max: 50 })
    .chain((lo) => fc.record({ min: fc.constant(lo), max: fc.integer({ min: lo, max: 100 }) })),
);

const grantArb: fc.Arbitrary<Grant> = fc
  .record(
    {
      tool: fc.constantFrom(...TOOLS),
      effect: fc.constantFrom<'allow' | 'deny'>('allow', 'allow', 'deny'),
      s: fc.option(stringConstraint, { nil: undefined }),
      n: fc.option(numberConstraint, { nil: undefined }),
    },
    { requiredKeys: ['tool', 'effect'] },
  )
  .map(({ tool, effect, s, n }) => {
    const where: Record<string, unknown> = {};
    if (s !== undefined) where.s = s;
    if (n !== undefined) where.n = n;
    return { tool, effect, ...(Object.keys(where).length > 0 ? { where } : {}) } as Grant;
  });

const callArb = fc
  .record(
    {
      tool: fc.constantFrom(...TOOLS),
      s: fc.option(fc.constantFrom(...WORDS), { nil: undefined }),
      n: fc.option(fc.integer({ min: -5, max: 120 }), { nil: undefined }),
    },
    { requiredKeys: ['tool'] },
  )
  .map(({ tool, s, n }) => ({
    tool,
    args: { ...(s === undefined ? {} : { s }), ...(n === undefined ? {} : { n }) },
  }));

function policyFor(grants: Grant[], cedar?: string): Policy {
  return new Policy(
    validateConfig({
      version: 1,
      agents: [{ id: 'a', owner: 'o', grants }],
      tools: TOOLS.map((name) => ({ name, class: 'irreversible' })),
      ...(cedar === undefined ? {} : { actions: { cedar: { policies: cedar } } }),
    }),
  );
}

function verdictOf(
  grants: Grant[],
  call: { tool: string; args: Record<string, unknown> },
): GrantVerdict['kind'] {
  const p = policyFor(grants);
  return new GrantMatcher(p).match('a', p.tool(call.tool)!, call, 0).kind;
}

function matches(
  g: Grant,
  call: { tool: string; args: Record<string, unknown> },
  mode: 'allow' | 'deny',
): boolean {
  return g.tool === call.tool && compileWhere(g.where).test(call.args, mode);
}

// Hundreds of generated cases each, Cedar's evaluator in WebAssembly among them: seconds of CPU, which a loaded
// 2-core CI machine stretched to 14 s of wall time (the unit timeout is 15 s). The limit is a hang guard.
describe('least privilege properties', { timeout: 120_000 }, () => {
  it('no grant order changes a decision', () => {
    fc.assert(
      fc.property(
        fc.array(grantArb, { maxLength: 12 }),
        callArb,
        fc.infiniteStream(fc.nat()),
        (grants, call, seeds) => {
          const shuffled = [...grants];
          const it = seeds[Symbol.iterator]();
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (it.next().value as number) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          expect(verdictOf(shuffled, call)).toBe(verdictOf(grants, call));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('deny wins and the default is deny', () => {
    fc.assert(
      fc.property(fc.array(grantArb, { maxLength: 12 }), callArb, (grants, call) => {
        const kind = verdictOf(grants, call);
        const denied = grants.some((g) => g.effect === 'deny' && matches(g, call, 'deny'));
        const allowed = grants.some((g) => g.effect === 'allow' && matches(g, call, 'allow'));
        if (denied) expect(kind).toBe('deny-grant');
        else if (!allowed) expect(kind).toBe('none');
        else expect(kind).toBe('allow');
      }),
      { numRuns: 500 },
    );
  });

  it('indexed grant groups (many grants on one tool) decide exactly as a plain scan would', () => {
    const PATHS = ['ab/x', 'ab/y', 'x/y/z', 'x', '../ab/x', 'ab/../x/y', 'q/r', 'ab', 'zz/1'];
    const pathConstraint = fc.oneof(
      fc.constantFrom(...PATHS),
      fc.constantFrom('ab/*', 'x/**', 'q/*', 'zz/*', 'a*', 'ab/x'),
      fc.uniqueArray(fc.constantFrom(...PATHS, 'ab/*', 'x/**'), { minLength: 1, maxLength: 3 }),
      fc.record({ glob: fc.constantFrom('ab/*', 'x/*/z'), ignoreCase: fc.boolean() }),
    );
    const manyGrants = fc.array(
      // Mostly constrained grants, so that the grant found through the index is often the one that decides.
      fc
        .record({
          effect: fc.constantFrom<'allow' | 'deny'>('allow', 'allow', 'deny'),
          p: fc.option(pathConstraint, { nil: undefined, freq: 30 }),
        })
        .map(({ effect, p }) => ({ tool: 'deploy', effect, ...(p === undefined ? {} : { where: { p } }) })),
      { minLength: 9, maxLength: 24 },
    );
    const pathCall = fc.oneof(
      fc.constantFrom(...PATHS, 'AB/x', 'ab/x/y'),
      fc.array(fc.constantFrom(...PATHS), { maxLength: 3 }),
      fc.constant(undefined),
      fc.constant({ nested: 'ab/x' }),
    );
    fc.assert(
      fc.property(manyGrants, pathCall, (grants, p) => {
        const call = { tool: 'deploy', args: p === undefined ? {} : { p } };
        const kind = verdictOf(grants, call);
        const denied = grants.some((g) => g.effect === 'deny' && matches(g, call, 'deny'));
        const allowed = grants.some((g) => g.effect === 'allow' && matches(g, call, 'allow'));
        expect(kind).toBe(denied ? 'deny-grant' : allowed ? 'allow' : 'none');
      }),
      { numRuns: 1000 },
    );
  });

  it('the compiled matcher and Cedar agree on grants both can express', () => {
    fc.assert(
      fc.property(
        fc.array(grantArb, { minLength: 1, maxLength: 8 }),
        fc.array(callArb, { minLength: 1, maxLength: 6 }),
        (grants, calls) => {
          const cedarText = grants.map((g) => grantToCedar('a', g)).join('\n');
          // Each translation parses (a property in itself).
          expect(parseCedarPolicies(cedarText, 'generated')).toHaveLength(grants.length);
          const p = policyFor([], cedarText);
          const engine = CedarEngine.fromPolicy(p)!;
          const fast = policyFor(grants);
          const matcher = new GrantMatcher(fast);
          const agent = p.agent('a')!;
          for (const call of calls) {
            const tool = p.tool(call.tool)!;
            const ours = matcher.match('a', fast.tool(call.tool)!, call, 0).kind === 'allow';
            const theirs =
              engine.evaluate({
                agent,
                tool,
                call,
                actor: { agent: 'a', session: 's' },
                phase: 'principal',
                taint: 1,
                now: 0,
              }).effect === 'permit';
            expect({ call, grants, cedar: cedarText, allowed: theirs }).toEqual({
              call,
              grants,
              cedar: cedarText,
              allowed: ours,
            });
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
