import { describe, expect, it } from 'vitest';
import type { MaturityService } from '../../../src/maturity/extension.js';
import type { Store } from '../../../src/store/store.js';
import type {} from '../../../src/warden.js';
import { until } from '../../helpers/wait.js';
import { ACTIONS_CONFIG, approvalsOf, suiteWardens } from '../../actions/helpers.js';

const CAPS_CONFIG = `version: 1
agents:
  - { id: counter, owner: o, phase: principal }
  - { id: spender, owner: o, phase: principal }
  - { id: spreader, owner: o, phase: principal }
  - id: narrow
    owner: o
    phase: principal
    grants: [{ tool: deploy, where: { repoId: "ok/*" } }]
  - { id: uncapped, owner: o, phase: principal }
tools:
  - { name: read_file, class: read }
  - { name: write_file, class: write }
  - { name: deploy, class: irreversible }
  - { name: pay, class: irreversible }
approvals:
  approvers: [{ name: alice }]
maturity:
  senior:
    preApproved: [{ tool: write_file, where: { path: "docs/**" } }]
  agents:
    counter: { caps: [{ name: two-per-hour, classes: [irreversible], count: 2, per: 1h }] }
    narrow: { caps: [{ name: one-per-hour, classes: [irreversible], count: 1, per: 1h }] }
    spender: { caps: [{ name: spend, tools: [pay], sum: amount, max: 1000, per: 1d }] }
    spreader: { caps: [{ name: repos, tools: [deploy], distinct: repoId, max: 2, per: 1d }] }
`;

/** Each maturity phase as a run-time gate, run against one store backend. */
export function phasesSuite(
  label: string,
  makeStore: () => Promise<{ store: Store; reopen: () => Promise<Store> }>,
): void {
  describe(`phases at run time on ${label}`, () => {
    const open = suiteWardens(makeStore);
    async function setup(config = ACTIONS_CONFIG) {
      const { w, store, clock, replica } = await open({ config });
      return {
        w,
        store,
        clock,
        replica: () => replica(),
        maturity: w.runtime.service<MaturityService>('maturity')!,
      };
    }

    it('Intern: reads only; writes, irreversible calls and memory writes are denied', async () => {
      const { w } = await setup();
      const s = w.session({ agent: 'intern-bot' });
      expect((await s.authorize({ tool: 'read_file', args: {} })).verdict).toBe('allow');
      for (const d of [
        await s.authorize({ tool: 'write_file', args: {} }),
        await s.authorize({ tool: 'deploy', args: {} }),
        await s.memoryWrite({ namespace: 'n', key: 'k', value: 1 }),
      ]) {
        expect(d.verdict).toBe('deny');
        expect(d.reasons[0]).toMatchObject({ control: 'phase', evidence: { phase: 'intern' } });
        expect(d.escalation?.missing).toMatch(/promotion to Junior/);
      }
    });

    it('Junior: every change needs approval, reads run', async () => {
      const { w } = await setup();
      const s = w.session({ agent: 'deployer' });
      expect((await s.authorize({ tool: 'list_repos', args: {} })).verdict).toBe('allow');
      const d = await s.authorize({ tool: 'write_file', args: { path: 'src/a.ts' } });
      expect(d.verdict).toBe('approve');
      expect(d.reasons[0]?.message).toMatch(/Junior \(supervised\)/);
      expect(d.escalation?.who).toEqual(['alice', 'bob', 'sam']);
      expect((await s.memoryWrite({ namespace: 'notes/x', key: 'k', value: 1 })).verdict).toBe('approve');
    });

    it('Senior: pre-approved classes run alone, everything else that changes anything escalates', async () => {
      const { w } = await setup();
      const s = w.session({ agent: 'senior-bot' });
      expect((await s.authorize({ tool: 'write_file', args: { path: 'docs/guide.md' } })).verdict).toBe(
        'allow',
      );
      const src = await s.authorize({ tool: 'write_file', args: { path: 'src/app.ts' } });
      expect(src.verdict).toBe('approve');
      expect(src.reasons[0]?.message).toMatch(/not in a pre-approved action class/);
      expect((await s.authorize({ tool: 'write_file', args: { path: 'docs/../src/app.ts' } })).verdict).toBe(
        'approve',
      );
      expect((await s.authorize({ tool: 'deploy', args: { repoId: 'acme/x' } })).verdict).toBe('approve');
      expect((await s.memoryWrite({ namespace: 'notes/today', key: 'k', value: 1 })).verdict).toBe('allow');
      expect((await s.memoryWrite({ namespace: 'goals', key: 'k', value: 1 })).verdict).toBe('approve');
    });

    it('Principal: count caps per window; beyond a cap a person decides, and the approved action counts', async () => {
      const { w, clock } = await setup(CAPS_CONFIG);
      const s = w.session({ agent: 'counter' });
      expect((await s.authorize({ tool: 'write_file', args: {} })).verdict).toBe('allow');
      expect((await s.authorize({ tool: 'deploy', args: { n: 1 } })).verdict).toBe('allow');
      expect((await s.authorize({ tool: 'deploy', args: { n: 2 } })).verdict).toBe('allow');
      const third = await s.authorize({ tool: 'deploy', args: { n: 3 } });
      expect(third.verdict).toBe('approve');
      expect(third.reasons[0]).toMatchObject({
        control: 'cap',
        evidence: { cap: 'two-per-hour', used: 2, limit: 2 },
      });
      await approvalsOf(w).api.approve(third.approvalId!, 'alice');
      expect((await s.authorize({ tool: 'deploy', args: { n: 3 } })).verdict).toBe('allow');
      const m = w.runtime.service<MaturityService>('maturity')!;
      expect(m.gate.usage('counter', clock.t)[0]).toMatchObject({ used: 3, limit: 2 });
      clock.advance(3_600_000);
      expect((await s.authorize({ tool: 'deploy', args: { n: 4 } })).verdict).toBe('allow');
    });

    it('Principal: sum and distinct (blast radius) caps, and a value it cannot measure escalates', async () => {
      const { w } = await setup(CAPS_CONFIG);
      const pay = w.session({ agent: 'spender' });
      expect((await pay.authorize({ tool: 'pay', args: { amount: 600 } })).verdict).toBe('allow');
      expect((await pay.authorize({ tool: 'pay', args: { amount: '400' } })).verdict).toBe('allow');
      const over = await pay.authorize({ tool: 'pay', args: { amount: 1 } });
      expect(over.verdict).toBe('approve');
      expect(over.reasons[0]?.message).toMatch(/would exceed cap spend: 1001 in amount in 1d, limit 1000/);
      expect((await pay.authorize({ tool: 'pay', args: { amount: 'a lot' } })).reasons[0]?.message).toMatch(
        /does not give as a usable value/,
      );
      const dep = w.session({ agent: 'spreader' });
      expect((await dep.authorize({ tool: 'deploy', args: { repoId: 'a' } })).verdict).toBe('allow');
      expect((await dep.authorize({ tool: 'deploy', args: { repoId: 'b' } })).verdict).toBe('allow');
      expect((await dep.authorize({ tool: 'deploy', args: { repoId: 'a' } })).verdict).toBe('allow');
      expect((await dep.authorize({ tool: 'deploy', args: { repoId: 'c' } })).verdict).toBe('approve');
    });

    it('Principal: a refused call spends nothing; no caps means Senior rules; caps survive a restart', async () => {
      const { w, clock, replica: reopen } = await setup(CAPS_CONFIG);
      const n = w.session({ agent: 'narrow' });
      expect((await n.authorize({ tool: 'deploy', args: { repoId: 'bad/x' } })).verdict).toBe('deny');
      expect((await n.authorize({ tool: 'deploy', args: { repoId: 'ok/x' } })).verdict).toBe('allow');
      expect((await n.authorize({ tool: 'deploy', args: { repoId: 'ok/y' } })).verdict).toBe('approve');
      const u = w.session({ agent: 'uncapped' });
      expect((await u.authorize({ tool: 'write_file', args: { path: 'docs/a' } })).verdict).toBe('allow');
      expect(
        (await u.authorize({ tool: 'write_file', args: { path: 'src/a' } })).reasons[0]?.message,
      ).toMatch(/Principal without caps/);
      // A new process rebuilds the windows from the ledger.
      await w.runtime.ledger.flush();
      const later = await reopen();
      expect(later.runtime.service<MaturityService>('maturity')!.gate.usage('narrow', clock.t)[0]?.used).toBe(
        1,
      );
      expect(
        (await later.session({ agent: 'narrow' }).authorize({ tool: 'deploy', args: { repoId: 'ok/z' } }))
          .verdict,
      ).toBe('approve');
    });

    it('reads the effective phase from the store, cached and refreshed by pub/sub on every replica', async () => {
      const { w, replica, maturity, clock } = await setup();
      const other = await replica();
      clock.advance(15 * 86_400_000);
      // The Intern has acted (its first ledger record starts its time at phase).
      await w.session({ agent: 'intern-bot' }).authorize({ tool: 'read_file', args: {} });
      await w.runtime.ledger.flush();
      clock.advance(15 * 86_400_000);
      const r = await maturity.promote('intern-bot', 'junior', 'alice');
      expect(r.missing).toEqual([]);
      expect(maturity.phaseOf('intern-bot')).toBe('junior');
      expect(
        (await w.session({ agent: 'intern-bot' }).authorize({ tool: 'write_file', args: {} })).verdict,
      ).toBe('approve');
      const otherMaturity = other.runtime.service<MaturityService>('maturity')!;
      await until(() => otherMaturity.phaseOf('intern-bot') === 'junior', 'the replica hears the promotion', {
        everyMs: 20,
      });
      expect(
        (await other.session({ agent: 'intern-bot' }).authorize({ tool: 'write_file', args: {} })).verdict,
      ).toBe('approve');
    });
  });
}
