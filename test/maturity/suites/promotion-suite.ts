import { describe, expect, it } from 'vitest';
import type { MaturityService } from '../../../src/maturity/extension.js';
import { AGENT_STATE_COLLECTION } from '../../../src/maturity/state.js';
import type { Store } from '../../../src/store/store.js';
import type { Warden } from '../../../src/warden.js';
import { until } from '../../helpers/wait.js';
import { suiteWardens } from '../../actions/helpers.js';

const DAY = 86_400_000;

const CONFIG = `version: 1
agents:
  - { id: rookie, owner: olivia, phase: intern }
  - { id: helper, owner: olivia, phase: junior }
  - { id: veteran, owner: olivia, phase: senior }
  - { id: chief, owner: olivia, phase: principal }
tools:
  - { name: read_file, class: read }
  - { name: write_file, class: write }
approvals:
  approvers:
    - { name: alice, roles: [security] }
    - { name: bob, roles: [sre] }
    - { name: olivia, roles: [security] }
maturity:
  promotion:
    minDays: { intern: 14, junior: 7, senior: 30 }
    signoffRoles: [security]
  principal:
    caps: [{ name: any, count: 10, per: 1h }]
`;

function alert(id: string, agent: string, severity: string, ts: number, status = 'open') {
  return {
    id,
    rule: 'test-rule',
    severity,
    agent,
    ts,
    message: `alert ${id}`,
    evidence: { events: [] },
    actions: ['record'],
    status,
  };
}

/**
 * Starts listening for the next announcement of alert `id` on each store; the returned wait resolves once every
 * store has handed it to its subscribers. Each Warden's demoter subscribed first, so by then it has queued the
 * announcement, and `demoter.idle()` covers it: a check that nothing happened is not cut short by a slow
 * delivery, as a fixed sleep could be.
 */
async function nextAnnouncement(stores: Store[], id: string): Promise<() => Promise<void>> {
  const heard = new Set<number>();
  const unsubscribe = await Promise.all(
    stores.map((s, i) =>
      s.subscribe('warden_alerts', (m) => {
        if ((m as { id?: unknown }).id === id) heard.add(i);
      }),
    ),
  );
  return async () => {
    await until(() => heard.size === stores.length, `every replica hears the announcement of ${id}`);
    for (const u of unsubscribe) await u();
  };
}

/** Promotion with evidence and demotion on critical alerts, against one store backend. */
export function promotionSuite(
  label: string,
  makeStore: () => Promise<{ store: Store; reopen: () => Promise<Store> }>,
): void {
  describe(`promotion and demotion on ${label}`, () => {
    const open = suiteWardens(makeStore);
    async function setup(config = CONFIG, existing?: { store: Store; reopen: () => Promise<Store> }) {
      const { w, store, clock, reopen, replica } = await open({
        config,
        ...(existing === undefined ? {} : { existing }),
      });
      const maturity = w.runtime.service<MaturityService>('maturity')!;
      return { w, store, clock, replica, maturity, reopen };
    }
    async function act(w: Warden, agent: string) {
      await w.session({ agent }).authorize({ tool: 'read_file', args: {} });
      await w.runtime.ledger.flush();
    }

    it('refuses a promotion with the list of what is missing, and records the refusal', async () => {
      const { w, store, clock, maturity } = await setup();
      let r = await maturity.promote('rookie', 'junior', 'alice');
      expect(r.ok).toBe(false);
      expect(r.missing.join('\n')).toMatch(
        /time-at-phase: no record of rookie acting yet; 14 days at Intern are needed/,
      );
      await act(w, 'rookie');
      clock.advance(10 * DAY);
      r = await maturity.promote('rookie', 'junior', 'olivia');
      expect(r.missing).toEqual([
        'time-at-phase: 10.0 days at Intern since ' +
          new Date(clock.t - 10 * DAY).toISOString() +
          '; 14 are needed (4.0 to go)',
        'sign-off: olivia owns rookie and may not sign off its promotion (approvals.selfApproval: forbid)',
      ]);
      expect((await maturity.promote('rookie', 'junior', 'bob')).missing.at(-1)).toMatch(
        /does not hold a sign-off role/,
      );
      expect((await maturity.promote('rookie', 'senior', 'alice')).missing[0]).toMatch(
        /one phase at a time: Intern to Junior, not to Senior/,
      );
      expect((await maturity.promote('helper', 'intern', 'alice')).missing[0]).toMatch(/already Junior/);
      expect(maturity.phaseOf('rookie')).toBe('intern');
      expect(await store.getDoc(AGENT_STATE_COLLECTION, 'rookie')).toBeUndefined();
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'phase.promotion_refused' })).length).toBe(5);
    });

    it('promotes with evidence and a sign-off, recording it in agent_state and the ledger', async () => {
      const { w, store, clock, maturity } = await setup();
      await act(w, 'rookie');
      clock.advance(14 * DAY + 1);
      const r = await maturity.promote('rookie', 'junior', 'alice', 'two clean weeks');
      expect(r).toMatchObject({ ok: true, from: 'intern', to: 'junior' });
      expect(r.evidence.map((e) => [e.name, e.ok])).toEqual([
        ['time-at-phase', true],
        ['no-critical-alerts', true],
      ]);
      const doc = await store.getDoc<{
        phase: string;
        since: number;
        history: { phase: string; by: string; reason: string }[];
      }>(AGENT_STATE_COLLECTION, 'rookie');
      expect(doc?.body).toMatchObject({
        phase: 'junior',
        since: clock.t,
        history: [{ phase: 'junior', from: 'intern', by: 'alice', reason: 'two clean weeks' }],
      });
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'phase.promoted' }))[0]).toMatchObject({
        agent: 'rookie',
        data: { from: 'intern', to: 'junior', signoff: 'alice' },
      });
      // The clock restarts at Junior (7 days there).
      expect((await maturity.promote('rookie', 'senior', 'alice')).missing[0]).toMatch(/0\.0 days at Junior/);
      clock.advance(7 * DAY);
      expect((await maturity.promote('rookie', 'senior', 'alice')).ok).toBe(true);
      const demoted = await maturity.demote('rookie', 'intern', 'alice', 'policy review');
      expect(demoted).toEqual({ from: 'senior', to: 'intern' });
      await expect(maturity.demote('rookie', 'junior', 'alice', 'x')).rejects.toThrow(/a demotion goes down/);
    });

    it('takes critical alerts into account and lets modules add evidence', async () => {
      const { w, store, clock, maturity } = await setup();
      await act(w, 'helper');
      clock.advance(8 * DAY);
      await store.putDoc(
        'alerts',
        'al-old',
        alert('al-old', 'helper', 'critical', clock.t - 30 * DAY, 'closed'),
      );
      await store.putDoc('alerts', 'al-high', alert('al-high', 'helper', 'high', clock.t - DAY));
      await store.putDoc(
        'alerts',
        'al-crit',
        alert('al-crit', 'helper', 'critical', clock.t - DAY, 'closed'),
      );
      const r = await maturity.evidence('helper', 'senior');
      expect(r.missing).toEqual([
        expect.stringMatching(/^no-critical-alerts: critical alert: al-crit \(test-rule\)/),
      ]);
      await store.deleteDoc('alerts', 'al-crit');
      expect((await maturity.evidence('helper', 'senior')).ok).toBe(true);
      maturity.addEvidence({
        name: 'checklist',
        description: 'the 20 questions',
        appliesTo: (to) => to !== 'junior',
        check: () => Promise.resolve({ ok: false, detail: 'question 7 is no' }),
      });
      expect((await maturity.promote('helper', 'senior', 'alice')).missing).toEqual([
        'checklist: question 7 is no',
      ]);
      expect(() => {
        maturity.addEvidence({
          name: 'checklist',
          description: '',
          check: () => Promise.resolve({ ok: true, detail: '' }),
        });
      }).toThrow(/twice/);
      const strict = await setup(
        CONFIG.replace(
          '    signoffRoles: [security]',
          '    signoffRoles: [security]\n    evidence: [time-at-phase, twin-run]',
        ),
      );
      expect((await strict.maturity.evidence('helper', 'senior')).missing).toContain(
        'twin-run: evidence check twin-run is not available (named in maturity.promotion.evidence)',
      );
    });

    it('demotes on a critical alert, once, on every replica, and says so in the ledger', async () => {
      const { w, store, clock, maturity, replica } = await setup();
      const other = await replica();
      const otherMaturity = other.runtime.service<MaturityService>('maturity')!;
      clock.advance(DAY);
      await store.putDoc('alerts', 'al-1', alert('al-1', 'veteran', 'critical', clock.t));
      await store.publish('warden_alerts', {
        type: 'alert.raised',
        id: 'al-1',
        rule: 'test-rule',
        severity: 'critical',
        agent: 'veteran',
        ts: clock.t,
      });
      await until(
        () => maturity.phaseOf('veteran') === 'junior' && otherMaturity.phaseOf('veteran') === 'junior',
        'both replicas demote on the critical alert',
        { everyMs: 20 },
      );
      await maturity.demoter.idle();
      await otherMaturity.demoter.idle();
      expect(maturity.phaseOf('veteran')).toBe('junior');
      expect(otherMaturity.phaseOf('veteran')).toBe('junior');
      // Announced again (or heard by both replicas): no second demotion.
      const replicas = [store, other.runtime.store];
      const duplicateHeard = await nextAnnouncement(replicas, 'al-1');
      await store.publish('warden_alerts', {
        type: 'alert.raised',
        id: 'al-1',
        severity: 'critical',
        agent: 'veteran',
        ts: clock.t,
      });
      await duplicateHeard();
      await maturity.demoter.idle();
      await otherMaturity.demoter.idle();
      expect(maturity.phaseOf('veteran')).toBe('junior');
      await w.runtime.ledger.flush();
      await other.runtime.ledger.flush();
      const records = await store.readLedger({ type: 'phase.demoted' });
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        agent: 'veteran',
        data: { from: 'senior', to: 'junior', automatic: true, alert: 'al-1' },
      });
      expect(
        (await w.session({ agent: 'veteran' }).authorize({ tool: 'write_file', args: {} })).verdict,
      ).toBe('approve');
      // Ignored: not critical, unknown agent, closed announcements.
      const lastHeard = await nextAnnouncement(replicas, 'al-3');
      await store.putDoc('alerts', 'al-2', alert('al-2', 'chief', 'high', clock.t));
      await store.publish('warden_alerts', {
        type: 'alert.raised',
        id: 'al-2',
        severity: 'high',
        agent: 'chief',
        ts: clock.t,
      });
      await store.publish('warden_alerts', {
        type: 'alert.raised',
        id: 'al-3',
        severity: 'critical',
        agent: 'ghost',
        ts: clock.t,
      });
      await lastHeard();
      await maturity.demoter.idle();
      await otherMaturity.demoter.idle();
      expect(maturity.phaseOf('chief')).toBe('principal');
      expect(otherMaturity.phaseOf('chief')).toBe('principal');
    });

    it('catches alerts raised while it was down; an Intern stays Intern but its clock restarts; `intern` mode drops all the way', async () => {
      const made = await makeStore();
      await made.store.putDoc('alerts', 'al-9', alert('al-9', 'chief', 'critical', Date.now() - 1000));
      await made.store.putDoc('alerts', 'al-8', alert('al-8', 'rookie', 'critical', Date.now() - 1000));
      const { maturity, store } = await setup(
        CONFIG.replace('maturity:\n', 'maturity:\n  demotion: { onCritical: intern }\n'),
        made,
      );
      expect(maturity.phaseOf('chief')).toBe('intern');
      expect(maturity.phaseOf('rookie')).toBe('intern');
      const rookie = await store.getDoc<{ since: number; history: { alert?: string; reason: string }[] }>(
        AGENT_STATE_COLLECTION,
        'rookie',
      );
      expect(rookie?.body.history[0]).toMatchObject({ alert: 'al-8' });
      expect(rookie?.body.history[0]?.reason).toMatch(/stays Intern, time at phase restarts/);
    });

    it('treats an unreadable or unsealed stored phase as intern and lets a person fix it', async () => {
      const { store, maturity } = await setup();
      await store.putDoc(AGENT_STATE_COLLECTION, 'chief', { phase: 'god', since: 'yesterday' });
      await maturity.cache.refreshAgent('chief');
      expect(maturity.phaseOf('chief')).toBe('intern');
      expect((await maturity.evidence('chief', 'junior')).missing[0]).toMatch(/unreadable/);
      await store.deleteDoc(AGENT_STATE_COLLECTION, 'chief');
      await maturity.cache.refreshAll();
      expect(maturity.phaseOf('chief')).toBe('principal');
      expect(maturity.phaseOf('nobody')).toBe('intern');
      // A well-formed state that Warden did not write (no seal, or another agent's) promotes nobody.
      await store.putDoc(AGENT_STATE_COLLECTION, 'rookie', { phase: 'principal', since: 1, history: [] });
      await maturity.cache.refreshAgent('rookie');
      expect(maturity.phaseOf('rookie')).toBe('intern');
      await maturity.demote('chief', 'senior', 'alice', 'review');
      const sealed = await store.getDoc(AGENT_STATE_COLLECTION, 'chief');
      await store.putDoc(AGENT_STATE_COLLECTION, 'rookie', sealed!.body);
      await maturity.cache.refreshAgent('rookie');
      expect(maturity.phaseOf('rookie')).toBe('intern');
      expect((await maturity.explain('rookie')).source).toBe('store (unreadable: treated as intern)');
      expect(maturity.phaseOf('chief')).toBe('senior');
    });
  });
}
