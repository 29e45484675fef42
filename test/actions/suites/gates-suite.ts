import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import type {} from '../../../src/warden.js';
import { until } from '../../helpers/wait.js';
import { ACTIONS_CONFIG, approvalsOf, suiteWardens } from '../helpers.js';

const RATE_CONFIG = `version: 1
agents:
  - id: reader
    owner: rita
    phase: principal
    grants:
      - { id: few-reads, tool: read_file, rate: { count: 3, per: 1h } }
  - id: writer
    owner: will
    phase: junior
    grants:
      - { id: one-write, tool: write_file, rate: { count: 1, per: 1h } }
  - id: payer
    owner: paula
    phase: principal
tools:
  - { name: read_file, class: read }
  - { name: write_file, class: write }
  - { name: pay, class: irreversible }
actions:
  grantors: [security-team]
approvals:
  approvers: [{ name: alice }]
  rules:
    - { name: every-payment, tools: [pay], require: true }
maturity:
  principal:
    caps: [{ name: many, count: 100, per: 1h }]
`;

/** The least-privilege gate and approval rules, run against one store backend. */
export function gatesSuite(
  label: string,
  makeStore: () => Promise<{ store: Store; reopen: () => Promise<Store> }>,
): void {
  describe(`least privilege on ${label}`, () => {
    const open = suiteWardens(makeStore);
    async function setup(config = ACTIONS_CONFIG) {
      const { w, store, clock, replica } = await open({ config });
      return { w, store, clock, replica: () => replica() };
    }

    it('refuses a call outside the grants with an escalation signal, and never asks a person instead', async () => {
      const { w, store } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize({ tool: 'deploy', args: { repoId: 'evil/web', env: 'prod' } });
      expect(d.verdict).toBe('deny');
      expect(d.approvalId).toBeUndefined();
      expect(d.reasons[0]).toMatchObject({ control: 'least-privilege', domain: 3, risk: 'ASI03' });
      expect(d.escalation).toEqual({
        who: ['olivia'],
        missing:
          'a grant of deploy to deployer covering these arguments (closest: deploy-acme; repoId must be like "acme/*" (got "evil/web"))',
      });
      const denied = await s.authorize({ tool: 'write_file', args: { path: 'db/users.sqlite' } });
      expect(denied.reasons[0]?.message).toMatch(
        /grant no-db of deployer denies this write_file call \(database files are off limits\)/,
      );
      expect((await s.authorize({ tool: 'pay', args: { amount: 501 } })).reasons[0]?.message).toMatch(
        /amount must be <= 500/,
      );
      expect((await s.authorize({ tool: 'read_file', args: {} })).verdict).toBe('allow');
      expect(
        (await w.session({ agent: 'locked' }).authorize({ tool: 'read_file', args: {} })).reasons[0]?.message,
      ).toMatch(/holds no grants/);
      expect(
        (await w.session({ agent: 'intern-bot' }).authorize({ tool: 'read_file', args: {} })).verdict,
      ).toBe('allow');
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'approval.requested' })).length).toBe(0);
    });

    it('limits rates per sliding window, names the grantors, and releases units a later gate refused', async () => {
      const { w, clock, replica } = await setup(RATE_CONFIG);
      const s = w.session({ agent: 'reader' });
      for (let i = 0; i < 3; i++)
        expect((await s.authorize({ tool: 'read_file', args: { i } })).verdict).toBe('allow');
      const fourth = await s.authorize({ tool: 'read_file', args: { i: 4 } });
      expect(fourth.verdict).toBe('deny');
      expect(fourth.reasons[0]?.message).toMatch(
        /reached the rate of grant few-reads: 3 read_file calls per 1h/,
      );
      expect(fourth.escalation?.who).toEqual(['security-team']);
      clock.advance(3_600_000);
      expect((await s.authorize({ tool: 'read_file', args: { i: 5 } })).verdict).toBe('allow');

      // A replica on the same store counts the same window.
      const other = await replica();
      const o = other.session({ agent: 'reader' });
      expect((await o.authorize({ tool: 'read_file', args: { j: 1 } })).verdict).toBe('allow');
      await until(
        () =>
          w.runtime
            .service<{ counters: { usage(k: string, p: number, n: number): { count: number } } }>('actions')!
            .counters.usage('grant\u0000reader\u00000', 3_600_000, clock.t).count === 2,
        "the replica's call counted in this process's window",
        { everyMs: 20 },
      );

      // A Junior's write waits for a person: the rate unit is not spent until the call really runs.
      const wr = w.session({ agent: 'writer' });
      const first = await wr.authorize({ tool: 'write_file', args: { path: 'a' } });
      expect(first.verdict).toBe('approve');
      expect((await wr.authorize({ tool: 'write_file', args: { path: 'b' } })).verdict).toBe('approve');
      await approvalsOf(w).api.approve(first.approvalId!, 'alice');
      expect((await wr.authorize({ tool: 'write_file', args: { path: 'a' } })).verdict).toBe('allow');
      const over = await wr.authorize({ tool: 'write_file', args: { path: 'c' } });
      expect(over.verdict).toBe('deny');
      expect(over.reasons[0]?.message).toMatch(/reached the rate/);
    });

    it('approval rules with require: true stop even a Principal inside its caps', async () => {
      const { w } = await setup(RATE_CONFIG);
      const d = await w.session({ agent: 'payer' }).authorize({ tool: 'pay', args: { amount: 1 } });
      expect(d.verdict).toBe('approve');
      expect(d.reasons[0]).toMatchObject({
        control: 'approval-rule',
        message: 'every-payment requires a person to approve pay',
      });
      expect(d.escalation?.who).toEqual(['alice']);
    });
  });
}
