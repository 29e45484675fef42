import { describe, expect, it } from 'vitest';
import { APPROVALS_COLLECTION, type ApprovalRequest } from '../../../src/actions/approvals/digest.js';
import { WardenError } from '../../../src/core/errors.js';
import type { Extension } from '../../../src/pipeline/runtime.js';
import type { ApprovalWaiter } from '../../../src/session.js';
import type { Store } from '../../../src/store/store.js';
import { until } from '../../helpers/wait.js';
import { ACTIONS_CONFIG, approvalsOf, ownExtensions, suiteWardens } from '../helpers.js';

/** A stand-in for the trust module's provenance service (contracts.md). */
function fakeTrust(): Extension {
  return {
    name: 'fake-trust',
    setup(runtime) {
      runtime.provide('trust', {
        provenanceOf: (_s: unknown, value: unknown) =>
          value === 'acme/web' ? { source: 'user', turn: 1 } : { source: 'nowhere' },
      });
      return [];
    },
  };
}

const STAGING = { tool: 'deploy', args: { repoId: 'acme/web', env: 'staging' } };
const PROD = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod' } };

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WardenError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'ok';
}

/**
 * The approval gate, run against one store backend. `makeStore` returns a fresh, migrated store;
 * `reopen` opens a second connection to the same store (another replica).
 */
export function approvalsSuite(
  label: string,
  makeStore: () => Promise<{ store: Store; reopen: () => Promise<Store> }>,
): void {
  describe(`approvals on ${label}`, () => {
    const open = suiteWardens(makeStore);
    async function setup(extra: { extensions?: Extension[]; config?: string } = {}) {
      const { w, store, clock, replica } = await open({
        extensions: extra.extensions ?? [...ownExtensions(), fakeTrust()],
        ...(extra.config === undefined ? {} : { config: extra.config }),
      });
      // Replicas run the default config and extensions, whatever this Warden was given.
      return { w, store, clock, replica: () => replica(ACTIONS_CONFIG), ...approvalsOf(w) };
    }

    it('creates one durable request per call, with reasons, expiry, provenance and the rationale apart', async () => {
      const { w, store, api, clock } = await setup();
      const s = w.session({ agent: 'deployer', user: 'dana', task: 'release' });
      const d = await s.authorize({ ...STAGING, rationale: 'the user asked for it, trust me' });
      expect(d.verdict).toBe('approve');
      expect(d.approvalId).toMatch(/^apr_/);
      const again = await s.authorize(STAGING);
      expect(again.approvalId).toBe(d.approvalId);
      const other = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/api', env: 'staging' } });
      expect(other.approvalId).not.toBe(d.approvalId);
      const v = await api.get(d.approvalId!);
      expect(v.verified).toBe(true);
      expect(v.request).toMatchObject({
        status: 'pending',
        agent: 'deployer',
        user: 'dana',
        task: 'release',
        tool: 'deploy',
        toolClass: 'irreversible',
        args: STAGING.args,
        provenance: { repoId: { source: 'user', turn: 1 }, env: { source: 'nowhere' } },
        rationale: 'the user asked for it, trust me',
        policy: { quorum: 1, owner: 'olivia', selfApproval: 'forbid' },
      });
      expect(v.request.reasons[0]).toMatchObject({ control: 'phase' });
      expect(v.request.expiresAt - v.request.createdAt).toBe(3_600_000);
      expect(v.request.createdAt).toBe(clock.t);
      const stored = await store.getDoc<ApprovalRequest>(APPROVALS_COLLECTION, d.approvalId!);
      expect(stored?.body.mac).toMatch(/^[0-9a-f]{64}$/);
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'approval.requested' })).length).toBe(2);
    });

    it('a grant covers exactly that call, once', async () => {
      const { w, api, store } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      await api.approve(d.approvalId!, 'alice', 'looks right');
      // Other arguments: another digest, not covered.
      const altered = await s.authorize({
        tool: 'deploy',
        args: { repoId: 'acme/web', env: 'staging', force: true },
      });
      expect(altered.verdict).toBe('approve');
      expect(altered.approvalId).not.toBe(d.approvalId);
      const run = await s.authorize(STAGING);
      expect(run).toMatchObject({ verdict: 'allow', approvalId: d.approvalId });
      const replay = await s.authorize(STAGING);
      expect(replay.verdict).toBe('approve');
      expect(replay.approvalId).not.toBe(d.approvalId);
      expect((await api.get(d.approvalId!)).request).toMatchObject({
        status: 'consumed',
        consumedBy: run.eventId,
        resolvedBy: ['alice'],
      });
      await w.runtime.ledger.flush();
      const types = (await store.readLedger()).map((r) => r.type);
      expect(types).toEqual(
        expect.arrayContaining(['approval.requested', 'approval.granted', 'approval.consumed']),
      );
      const allowed = (await store.readLedger({ type: 'tool.call' })).find((r) => r.id === run.eventId);
      expect(allowed).toMatchObject({ verdict: 'allow', data: { approvalId: d.approvalId } });
    });

    it('resumes in another session and on another replica sharing the store', async () => {
      const { w, api, replica } = await setup();
      const d = await w.session({ agent: 'deployer' }).authorize(STAGING);
      const other = await replica();
      await approvalsOf(other).api.approve(d.approvalId!, 'alice');
      expect((await api.get(d.approvalId!)).request.status).toBe('granted');
      const resumed = await other.session({ agent: 'deployer', session: 'later' }).authorize(STAGING);
      expect(resumed).toMatchObject({ verdict: 'allow', approvalId: d.approvalId });
      expect((await w.session({ agent: 'deployer' }).authorize(STAGING)).verdict).toBe('approve');
    });

    it('refuses altered, forged and tampered requests', async () => {
      const { w, api, store } = await setup();
      const s = w.session({ agent: 'deployer' });
      expect(await code(api.approve('apr_nope_nope_nope', 'alice'))).toMatch(/^NOT_FOUND/);
      expect(await code(api.get('apr_00000000_0000000000000000_0000000000'))).toMatch(/^NOT_FOUND/);

      // Someone edits what the approver is shown, without the key.
      const d = await s.authorize(STAGING);
      const doc = (await store.getDoc<ApprovalRequest>(APPROVALS_COLLECTION, d.approvalId!))!;
      await store.putDoc(APPROVALS_COLLECTION, d.approvalId!, {
        ...doc.body,
        args: { repoId: 'acme/web', env: 'dev' },
      });
      expect((await api.get(d.approvalId!)).verified).toBe(false);
      expect(await code(api.approve(d.approvalId!, 'alice'))).toMatch(
        /^APPROVAL_INVALID: .*altered or forged/,
      );

      // Someone flips a request to granted in the store.
      const d2 = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/x', env: 'staging' } });
      const doc2 = (await store.getDoc<ApprovalRequest>(APPROVALS_COLLECTION, d2.approvalId!))!;
      await store.putDoc(APPROVALS_COLLECTION, d2.approvalId!, {
        ...doc2.body,
        status: 'granted',
        resolvedBy: ['mallory'],
      });
      expect(
        (await s.authorize({ tool: 'deploy', args: { repoId: 'acme/x', env: 'staging' } })).verdict,
      ).toBe('approve');

      // A planted request with a made-up seal.
      const planted = {
        ...doc2.body,
        id: `${d2.approvalId!.slice(0, -10)}ffffffffff`,
        status: 'granted',
        mac: 'a'.repeat(64),
      };
      await store.putDoc(APPROVALS_COLLECTION, planted.id, planted);
      const after = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/x', env: 'staging' } });
      expect(after.verdict).toBe('approve');
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'approval.refused' })).length).toBeGreaterThanOrEqual(2);
    });

    it('expires on wall time, and a clock going back neither revives nor honours a request', async () => {
      const { w, api, clock } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      clock.advance(3_600_001);
      expect(await code(api.approve(d.approvalId!, 'alice'))).toMatch(/APPROVAL_INVALID: .*expired/);
      expect((await api.get(d.approvalId!)).request.status).toBe('expired');
      clock.advance(-3_600_001);
      expect(await code(api.approve(d.approvalId!, 'alice'))).toMatch(/is expired/);
      // While the clock reads earlier than a time this process has seen, nothing can be approved.
      const behind = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/b', env: 'staging' } });
      expect(await code(api.approve(behind.approvalId!, 'alice'))).toMatch(/after the current time/);
      clock.advance(3_600_001);

      // Granted, then the wall clock passes the expiry before the agent resumes.
      const g = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/g', env: 'staging' } });
      await api.approve(g.approvalId!, 'alice');
      clock.advance(3_600_000);
      const late = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/g', env: 'staging' } });
      expect(late.verdict).toBe('approve');
      expect(late.approvalId).not.toBe(g.approvalId);
      expect((await api.get(g.approvalId!)).request.status).toBe('expired');

      // The clock goes back an hour after a request was made: it now looks created in the future.
      const f = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/f', env: 'staging' } });
      await api.approve(f.approvalId!, 'alice');
      clock.advance(-3_600_000);
      expect(
        (await s.authorize({ tool: 'deploy', args: { repoId: 'acme/f', env: 'staging' } })).verdict,
      ).toBe('approve');
      const f2 = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/h', env: 'staging' } });
      clock.advance(-10_000);
      expect(await code(api.approve(f2.approvalId!, 'alice'))).toMatch(/after the current time/);
    });

    it('applies rules: quorum of two, roles, no self-approval, known approvers only', async () => {
      const { w, api } = await setup();
      const s = w.session({ agent: 'deployer' });
      const prod = await s.authorize(PROD);
      const v0 = await api.get(prod.approvalId!);
      expect(v0.request.policy).toMatchObject({ quorum: 2, rules: ['prod-deploys'] });
      expect(v0.request.expiresAt - v0.request.createdAt).toBe(30 * 60_000);
      expect(await code(api.approve(prod.approvalId!, 'olivia'))).toMatch(/owns agent deployer/);
      expect(await code(api.approve(prod.approvalId!, 'mallory'))).toMatch(/not an approver/);
      expect((await api.approve(prod.approvalId!, 'alice')).request.status).toBe('pending');
      expect(await code(api.approve(prod.approvalId!, 'alice'))).toMatch(/already voted/);
      expect((await s.authorize(PROD)).verdict).toBe('approve');
      const granted = await api.approve(prod.approvalId!, 'sam');
      expect(granted.request).toMatchObject({ status: 'granted', resolvedBy: ['alice', 'sam'] });
      expect(granted.approvals).toBe(2);
      expect((await s.authorize(PROD)).verdict).toBe('allow');

      const pay = await s.authorize({ tool: 'pay', args: { amount: 20, to: 'acct-1' } });
      expect(await code(api.approve(pay.approvalId!, 'alice'))).toMatch(/holds none of the roles finance/);
      expect((await api.approve(pay.approvalId!, 'bob')).request.status).toBe('granted');

      // The owner may still deny.
      const d = await s.authorize(STAGING);
      expect(await code(api.deny(d.approvalId!, 'olivia', ''))).toMatch(/needs a reason/);
      expect((await api.deny(d.approvalId!, 'olivia', 'not today')).request).toMatchObject({
        status: 'denied',
        note: 'not today',
      });
      expect(await code(api.approve(d.approvalId!, 'alice'))).toMatch(/is denied/);
    });

    it('survives races: concurrent votes all count, one voter counts once, one call redeems', async () => {
      const { w, api, replica } = await setup();
      const other = approvalsOf(await replica()).api;
      const s = w.session({ agent: 'deployer' });
      const prod = await s.authorize(PROD);
      const [a, b] = await Promise.all([
        api.approve(prod.approvalId!, 'alice'),
        other.approve(prod.approvalId!, 'sam'),
      ]);
      expect([a.request.status, b.request.status].sort()).toEqual(['granted', 'pending']);
      expect((await api.get(prod.approvalId!)).request.status).toBe('granted');

      const d = await s.authorize(STAGING);
      const twice = await Promise.allSettled([
        api.approve(d.approvalId!, 'alice'),
        other.approve(d.approvalId!, 'alice'),
      ]);
      expect(twice.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const redeem = await Promise.all([
        w.session({ agent: 'deployer' }).authorize(STAGING),
        w.session({ agent: 'deployer' }).authorize(STAGING),
        w.session({ agent: 'deployer' }).authorize(STAGING),
      ]);
      expect(redeem.filter((x) => x.verdict === 'allow')).toHaveLength(1);
    });

    it('waits with a timeout and an AbortSignal, and hears decisions made elsewhere', async () => {
      const { w, replica } = await setup();
      const waiter = w.runtime.service<ApprovalWaiter>('approvals.wait')!;
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      const other = approvalsOf(await replica()).api;
      const waiting = waiter.wait(d.approvalId!, { timeoutMs: 20_000 });
      setTimeout(() => void other.approve(d.approvalId!, 'alice'), 50);
      expect(await waiting).toBe('granted');

      const d2 = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/2', env: 'staging' } });
      expect(await waiter.wait(d2.approvalId!, { timeoutMs: 30 })).toBe('expired');
      const ac = new AbortController();
      const aborted = waiter.wait(d2.approvalId!, { signal: ac.signal, timeoutMs: 20_000 });
      ac.abort();
      expect(await aborted).toBe('cancelled');
      const denied = waiter.wait(d2.approvalId!, { timeoutMs: 20_000 });
      setTimeout(() => void other.deny(d2.approvalId!, 'bob', 'no'), 20);
      expect(await denied).toBe('denied');
      await expect(waiter.wait('apr_missing', {})).rejects.toThrow(/no approval request/);
    });

    it('wrap can wait for a person and runs the tool exactly once', async () => {
      const { w, api } = await setup();
      const s = w.session({ agent: 'deployer' });
      let runs = 0;
      const deploy = s.wrap(
        { name: 'deploy', execute: () => ++runs },
        { onApproval: 'wait', approvalTimeoutMs: 20_000 },
      );
      const pending = deploy(STAGING.args);
      let id: string | undefined;
      await until(async () => {
        id = (await api.list({ status: 'pending' }))[0]?.request.id;
        return id !== undefined;
      }, 'the wrapped call asks a person');
      await api.approve(id!, 'alice');
      const out = await pending;
      expect(out.status).toBe('ok');
      expect(runs).toBe(1);
      expect((await api.get(id!)).request.status).toBe('consumed');
      const returned = await s.wrap({ name: 'deploy', execute: () => ++runs })(STAGING.args);
      expect(returned.status).toBe('pending');
      expect(runs).toBe(1);
    });

    it('cancels pending requests when a kill switch covers them', async () => {
      const { w, api, store } = await setup();
      const a = await w.session({ agent: 'deployer', session: 's1' }).authorize(STAGING);
      const b = await w
        .session({ agent: 'senior-bot', session: 's2' })
        .authorize({ tool: 'write_file', args: { path: 'src/a' } });
      const waiting = w.runtime
        .service<ApprovalWaiter>('approvals.wait')!
        .wait(a.approvalId!, { timeoutMs: 20_000 });
      await w.kill('agent', 'deployer', 'incident 42', 'oncall');
      expect(await waiting).toBe('cancelled');
      const cancelled = await api.get(a.approvalId!);
      expect(cancelled.request).toMatchObject({ status: 'cancelled', resolvedBy: ['oncall'] });
      expect(cancelled.request.note).toMatch(/incident 42/);
      expect((await api.get(b.approvalId!)).request.status).toBe('pending');
      await w.kill('session', 's2', 'drill', 'oncall');
      await until(
        async () => (await api.get(b.approvalId!)).request.status !== 'pending',
        'the session kill settles its pending request',
      );
      expect((await api.get(b.approvalId!)).request.status).toBe('cancelled');
      await w.runtime.ledger.flush();
      expect((await store.readLedger({ type: 'approval.cancelled' })).length).toBe(2);
    });

    it('supervises memory writes', async () => {
      const { w, api } = await setup();
      const s = w.session({ agent: 'deployer' });
      const m = await s.memoryWrite({ namespace: 'goals', key: 'k', value: 'ship faster' });
      expect(m.verdict).toBe('approve');
      expect((await api.get(m.approvalId!)).request).toMatchObject({
        tool: 'memory.write',
        server: 'goals',
        kind: 'memory.write',
      });
      await api.approve(m.approvalId!, 'alice');
      expect((await s.memoryWrite({ namespace: 'goals', key: 'k', value: 'ship faster' })).verdict).toBe(
        'allow',
      );
      expect((await s.memoryWrite({ namespace: 'goals', key: 'k', value: 'ship slower' })).verdict).toBe(
        'approve',
      );
    });

    it('denies new requests beyond the open-request limit (approval flooding)', async () => {
      const { w } = await setup({
        config: ACTIONS_CONFIG.replace('approvals:\n', 'approvals:\n  maxPendingPerAgent: 2\n'),
      });
      const s = w.session({ agent: 'deployer' });
      for (const repo of ['acme/1', 'acme/2'])
        expect((await s.authorize({ tool: 'deploy', args: { repoId: repo, env: 'staging' } })).verdict).toBe(
          'approve',
        );
      const flood = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/3', env: 'staging' } });
      expect(flood.verdict).toBe('deny');
      expect(flood.reasons.at(-1)?.message).toMatch(/already has 2 open approval requests/);
      // The same call as an open request is not a new request.
      expect(
        (await s.authorize({ tool: 'deploy', args: { repoId: 'acme/1', env: 'staging' } })).verdict,
      ).toBe('approve');
    });

    it('cancels and sweeps', async () => {
      const { w, api, broker, clock } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      expect((await api.cancel(d.approvalId!, 'dana', 'not needed')).request.status).toBe('cancelled');
      expect(await code(api.cancel(d.approvalId!, 'dana', 'again'))).toMatch(/is cancelled/);
      const e = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/e', env: 'staging' } });
      expect((await api.list({ status: 'open' })).map((v) => v.request.id)).toEqual([e.approvalId]);
      clock.advance(3_600_000);
      expect(await broker.sweep()).toBe(1);
      expect((await api.get(e.approvalId!)).request.status).toBe('expired');
      expect(await api.list({ status: 'open' })).toEqual([]);
      expect(await api.resolveId(e.approvalId!.slice(0, 30))).toBe(e.approvalId);
    });
  });
}
