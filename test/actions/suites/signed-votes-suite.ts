import { describe, expect, it } from 'vitest';
import { APPROVALS_COLLECTION, type ApprovalRequest } from '../../../src/actions/approvals/digest.js';
import {
  MAX_VOTE_CLOCK_SKEW_MS,
  signVote,
  verifyVote,
  type VoteDecision,
} from '../../../src/actions/approvals/signed-votes.js';
import { WardenError } from '../../../src/core/errors.js';
import { generateAgentKeyPair, type AgentKeyPair } from '../../../src/observe/messages/keys.js';
import type { Store } from '../../../src/store/store.js';
import type { Warden } from '../../../src/warden.js';
import { ACTIONS_CONFIG, approvalsOf, suiteWardens } from '../helpers.js';

const STAGING = { tool: 'deploy', args: { repoId: 'acme/web', env: 'staging' } };
const PROD = { tool: 'deploy', args: { repoId: 'acme/web', env: 'prod' } };

/** ACTIONS_CONFIG with publicKeys for the named approvers, and extra `approvals:` lines. */
export function signedConfig(keys: Record<string, AgentKeyPair>, extra = ''): string {
  let config = ACTIONS_CONFIG;
  for (const [name, pair] of Object.entries(keys)) {
    const re = new RegExp(`- \\{ name: ${name}, roles: (\\[[^\\]]*\\]) \\}`);
    if (!re.test(config)) throw new Error(`no approver ${name} in ACTIONS_CONFIG`);
    config = config.replace(re, `- { name: ${name}, roles: $1, publicKey: "${pair.publicKey}" }`);
  }
  return config.replace('approvals:\n', `approvals:\n${extra}`);
}

async function refusal(p: Promise<unknown>): Promise<WardenError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof WardenError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

/**
 * Signed approver votes, run against one store backend. `makeStore` returns a fresh, migrated store.
 * alice and bob declare keys; sam does not (backward compatible: he still votes unsigned).
 */
export function signedVotesSuite(label: string, makeStore: () => Promise<{ store: Store }>): void {
  describe(`signed approval votes on ${label}`, () => {
    const alice = generateAgentKeyPair();
    const bob = generateAgentKeyPair();
    const open = suiteWardens(makeStore);

    async function setup(config = signedConfig({ alice, bob })) {
      const { w, store, clock } = await open({ config });
      return { w, store, clock, ...approvalsOf(w) };
    }

    /** A signature by `pair` for this vote on this request, made at `signedAt` (default: the test clock). */
    async function sign(
      w: Warden,
      pair: AgentKeyPair,
      id: string,
      by: string,
      decision: VoteDecision,
      note?: string,
      signedAt?: number,
    ) {
      const { fields } = await approvalsOf(w).api.statement(id, by, decision, note, signedAt);
      return signVote(pair.privateKeyPem, fields);
    }

    /** The request as stored (to check that a refusal changed nothing). */
    async function stored(store: Store, id: string) {
      return (await store.getDoc<ApprovalRequest>(APPROVALS_COLLECTION, id))!;
    }

    it('accepts a signed approve, stores who signed with which key, and the ledger can re-check it', async () => {
      const { w, api, store } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      const { fields, text } = await api.statement(
        d.approvalId!.slice(0, 20),
        'alice',
        'approve',
        'tag checked',
      );
      expect(fields.requestId).toBe(d.approvalId);
      expect(text).toContain(`request: "${d.approvalId!}"`);
      const signature = signVote(alice.privateKeyPem, fields);
      const v = await api.approve(d.approvalId!, 'alice', 'tag checked', { signature });
      expect(v.request.status).toBe('granted');
      expect(v.request.votes[0]).toMatchObject({
        by: 'alice',
        decision: 'approve',
        note: 'tag checked',
        signed: { fingerprint: alice.fingerprint, signature: signature.signature, signedAt: fields.signedAt },
      });
      expect((await api.get(d.approvalId!)).verified).toBe(true);
      expect((await s.authorize(STAGING)).verdict).toBe('allow');

      await w.runtime.ledger.flush();
      const [granted] = await store.readLedger({ type: 'approval.granted' });
      const data = granted!.data as {
        id: string;
        digest: string;
        by: string;
        decision: 'approve';
        note: string;
        signed: { fingerprint: string; signature: string; signedAt: number };
      };
      expect(data.signed.fingerprint).toBe(alice.fingerprint);
      // Everything the signature covers is in the ledger record: an auditor can verify it from there.
      const fromLedger = {
        requestId: data.id,
        digest: data.digest,
        decision: data.decision,
        by: data.by,
        note: data.note,
        signedAt: data.signed.signedAt,
      };
      expect(verifyVote(alice.publicKey, fromLedger, data.signed.signature)).toBe(true);
      expect(verifyVote(bob.publicKey, fromLedger, data.signed.signature)).toBe(false);
    });

    it('accepts a signed deny and a signed cancel', async () => {
      const { w, api } = await setup();
      const s = w.session({ agent: 'deployer' });
      const d = await s.authorize(STAGING);
      const denied = await api.deny(d.approvalId!, 'bob', 'wrong repo', {
        signature: await sign(w, bob, d.approvalId!, 'bob', 'deny', 'wrong repo'),
      });
      expect(denied.request).toMatchObject({ status: 'denied', note: 'wrong repo', resolvedBy: ['bob'] });
      expect(denied.request.votes[0]?.signed?.fingerprint).toBe(bob.fingerprint);

      const c = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/c', env: 'staging' } });
      expect((await refusal(api.cancel(c.approvalId!, 'alice', 'not needed'))).message).toMatch(
        /alice has a publicKey .* must be signed/,
      );
      const cancelled = await api.cancel(c.approvalId!, 'alice', 'not needed', {
        signature: await sign(w, alice, c.approvalId!, 'alice', 'cancel', 'not needed'),
      });
      expect(cancelled.request).toMatchObject({
        status: 'cancelled',
        cancelSigned: { fingerprint: alice.fingerprint },
      });
      // Someone who is not an approver may still withdraw a request unsigned (requireSignedVotes is off).
      const e = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/e', env: 'staging' } });
      expect((await api.cancel(e.approvalId!, 'dana', 'not needed')).request.cancelSigned).toBeUndefined();
    });

    it('refuses an unsigned vote from an approver with a key, records it, and changes nothing', async () => {
      const { w, api, store } = await setup();
      const d = await w.session({ agent: 'deployer' }).authorize(STAGING);
      const before = await stored(store, d.approvalId!);
      const e = await refusal(api.approve(d.approvalId!, 'alice', 'lgtm'));
      expect(e.code).toBe('APPROVAL_INVALID');
      expect(e.message).toMatch(/alice has a publicKey in approvals.approvers, so their vote must be signed/);
      expect(e.hint).toMatch(/signVote\(\).*--key FILE/);
      const after = await stored(store, d.approvalId!);
      expect(after.version).toBe(before.version);
      expect(after.body).toEqual(before.body);
      await w.runtime.ledger.flush();
      const refused = await store.readLedger({ type: 'approval.refused' });
      expect(refused.map((r) => (r.data as { why: string }).why)).toEqual([
        expect.stringMatching(/^approve by alice refused: alice has a publicKey/),
      ]);
      // An approver without a key votes as before.
      expect((await api.approve(d.approvalId!, 'sam')).request.votes[0]).toEqual({
        by: 'sam',
        at: expect.any(Number),
        decision: 'approve',
      });
    });

    it('refuses a signature by the wrong key, and a signature from an approver with no key to check it', async () => {
      const { w, api, store } = await setup();
      const d = await w.session({ agent: 'deployer' }).authorize(STAGING);
      const before = await stored(store, d.approvalId!);
      const forged = await sign(w, bob, d.approvalId!, 'alice', 'approve');
      const e = await refusal(api.approve(d.approvalId!, 'alice', undefined, { signature: forged }));
      expect(e.message).toMatch(
        new RegExp(`does not verify with alice's key ${alice.fingerprint.replace(/[+/]/g, '\\$&')}`),
      );
      const samSigned = await sign(w, alice, d.approvalId!, 'sam', 'approve');
      expect(
        (await refusal(api.approve(d.approvalId!, 'sam', undefined, { signature: samSigned }))).message,
      ).toMatch(/sam has no publicKey in approvals.approvers to check it against/);
      const malformed = { signature: 'bm90IGEgc2lnbmF0dXJl', signedAt: forged.signedAt };
      expect(
        (await refusal(api.approve(d.approvalId!, 'alice', undefined, { signature: malformed }))).message,
      ).toMatch(/malformed/);
      expect((await stored(store, d.approvalId!)).body).toEqual(before.body);
      await w.runtime.ledger.flush();
      expect(await store.readLedger({ type: 'approval.refused' })).toHaveLength(3);
    });

    it('binds a signature to one request, one decision and one note', async () => {
      const { w, api, store } = await setup();
      const s = w.session({ agent: 'deployer' });
      const a = await s.authorize(STAGING);
      const b = await s.authorize({ tool: 'deploy', args: { repoId: 'acme/api', env: 'staging' } });
      const forA = await sign(w, alice, a.approvalId!, 'alice', 'approve', 'ok');
      // Replayed on another request.
      expect((await refusal(api.approve(b.approvalId!, 'alice', 'ok', { signature: forA }))).message).toMatch(
        /does not verify .* another request, decision or note/,
      );
      // An approve turned into a deny (same note as reason).
      expect((await refusal(api.deny(a.approvalId!, 'alice', 'ok', { signature: forA }))).message).toMatch(
        /does not verify/,
      );
      // An approve turned into a cancel.
      expect((await refusal(api.cancel(a.approvalId!, 'alice', 'ok', { signature: forA }))).message).toMatch(
        /does not verify/,
      );
      // The note altered on the way.
      expect(
        (await refusal(api.approve(a.approvalId!, 'alice', 'ok, and deploy prod too', { signature: forA })))
          .message,
      ).toMatch(/does not verify/);
      expect(
        (await refusal(api.approve(a.approvalId!, 'alice', undefined, { signature: forA }))).message,
      ).toMatch(/does not verify/);
      // Claimed by another approver whose name is not the one signed.
      expect((await refusal(api.approve(a.approvalId!, 'bob', 'ok', { signature: forA }))).message).toMatch(
        /does not verify with bob's key/,
      );
      for (const id of [a.approvalId!, b.approvalId!]) {
        const doc = await stored(store, id);
        expect(doc.body).toMatchObject({ status: 'pending', votes: [] });
      }
      // The genuine vote still goes through, once; the same signature again is a second vote.
      expect((await api.approve(a.approvalId!, 'alice', 'ok', { signature: forA })).request.status).toBe(
        'granted',
      );
      expect((await refusal(api.approve(a.approvalId!, 'alice', 'ok', { signature: forA }))).message).toMatch(
        /is granted; only pending requests take votes/,
      );
    });

    it('refuses stale and future-dated signatures', async () => {
      const { w, api, clock } = await setup(signedConfig({ alice, bob }, '  signedVoteMaxAge: 2m\n'));
      const d = await w.session({ agent: 'deployer' }).authorize(STAGING);
      const stale = await sign(w, alice, d.approvalId!, 'alice', 'approve', undefined, clock.t - 120_001);
      expect(
        (await refusal(api.approve(d.approvalId!, 'alice', undefined, { signature: stale }))).message,
      ).toMatch(/signed at .*, more than 120s ago \(approvals.signedVoteMaxAge\)/);
      const future = await sign(
        w,
        alice,
        d.approvalId!,
        'alice',
        'approve',
        undefined,
        clock.t + MAX_VOTE_CLOCK_SKEW_MS + 1,
      );
      expect(
        (await refusal(api.approve(d.approvalId!, 'alice', undefined, { signature: future }))).message,
      ).toMatch(/later than now .* allowed clock skew/);
      // Signed in time, submitted too late: the clock moved on past the window.
      const held = await sign(w, alice, d.approvalId!, 'alice', 'approve');
      clock.advance(120_001);
      expect(
        (await refusal(api.approve(d.approvalId!, 'alice', undefined, { signature: held }))).message,
      ).toMatch(/more than 120s ago/);
      // A little clock skew is fine, and a fresh one is accepted.
      const ahead = await sign(w, alice, d.approvalId!, 'alice', 'approve', undefined, clock.t + 5_000);
      expect(
        (await api.approve(d.approvalId!, 'alice', undefined, { signature: ahead })).request.status,
      ).toBe('granted');
    });

    it('grants a quorum of two signed votes, each with its own key', async () => {
      const { w, api, store } = await setup();
      const s = w.session({ agent: 'deployer' });
      const prod = await s.authorize(PROD);
      expect((await api.get(prod.approvalId!)).quorum).toBe(2);
      const first = await api.approve(prod.approvalId!, 'alice', 'diff ok', {
        signature: await sign(w, alice, prod.approvalId!, 'alice', 'approve', 'diff ok'),
      });
      expect(first.request.status).toBe('pending');
      // bob cannot sign for alice's second vote, nor replay her signature as his.
      expect(
        (
          await refusal(
            api.approve(prod.approvalId!, 'bob', 'diff ok', {
              signature: await sign(w, alice, prod.approvalId!, 'bob', 'approve', 'diff ok'),
            }),
          )
        ).message,
      ).toMatch(/does not verify with bob's key/);
      const second = await api.approve(prod.approvalId!, 'bob', 'prod window open', {
        signature: await sign(w, bob, prod.approvalId!, 'bob', 'approve', 'prod window open'),
      });
      expect(second.request).toMatchObject({ status: 'granted', resolvedBy: ['alice', 'bob'] });
      expect(second.request.votes.map((v) => v.signed?.fingerprint)).toEqual([
        alice.fingerprint,
        bob.fingerprint,
      ]);
      expect((await s.authorize(PROD)).verdict).toBe('allow');
      await w.runtime.ledger.flush();
      const votes = [
        ...(await store.readLedger({ type: 'approval.vote' })),
        ...(await store.readLedger({ type: 'approval.granted' })),
      ].map((r) => (r.data as { signed: { fingerprint: string } }).signed.fingerprint);
      expect(votes).toEqual([alice.fingerprint, bob.fingerprint]);
    });

    it('with requireSignedVotes, every vote and cancel is signed by an approver', async () => {
      const carol = generateAgentKeyPair();
      const config = signedConfig(
        { alice, bob, olivia: carol, sam: generateAgentKeyPair() },
        '  requireSignedVotes: true\n',
      );
      const { w, api } = await setup(config);
      const d = await w.session({ agent: 'deployer' }).authorize(STAGING);
      expect((await refusal(api.cancel(d.approvalId!, 'dana', 'not needed'))).message).toMatch(
        /dana has no publicKey .*approvals.requireSignedVotes/,
      );
      expect((await refusal(api.approve(d.approvalId!, 'sam'))).message).toMatch(/must be signed/);
      const ok = await api.cancel(d.approvalId!, 'olivia', 'not needed', {
        signature: await sign(w, carol, d.approvalId!, 'olivia', 'cancel', 'not needed'),
      });
      expect(ok.request.status).toBe('cancelled');
    });
  });
}
