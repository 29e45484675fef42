import { describe, expect, it } from 'vitest';
import type { MaturityService } from '../../../src/maturity/extension.js';
import type { PromotionResult } from '../../../src/maturity/promotion.js';
import {
  promotionEvidenceDigest,
  promotionStatement,
  signPromotion,
  verifyPromotion,
  type PromotionFields,
} from '../../../src/maturity/signoff.js';
import { AGENT_STATE_COLLECTION, type AgentState } from '../../../src/maturity/state.js';
import { generateAgentKeyPair, type AgentKeyPair } from '../../../src/observe/messages/keys.js';
import type { Store } from '../../../src/store/store.js';
import type { Warden } from '../../../src/warden.js';
import { suiteWardens } from '../../actions/helpers.js';

const DAY = 86_400_000;
const MINUTE = 60_000;

/**
 * alice and bob (security) sign with keys; carol (security) has none; dave holds no sign-off role; olivia
 * owns the agents. `promotion` adds lines under `maturity.promotion`.
 */
function config(keys: Record<'alice' | 'bob' | 'dave', AgentKeyPair>, promotion = ''): string {
  return `version: 1
agents:
  - { id: rookie, owner: olivia, phase: intern }
  - { id: helper, owner: olivia, phase: junior }
tools:
  - { name: read_file, class: read }
  - { name: write_file, class: write }
approvals:
  signedVoteMaxAge: 5m
  approvers:
    - { name: alice, roles: [security], publicKey: ${keys.alice.publicKey} }
    - { name: bob, roles: [security], publicKey: ${keys.bob.publicKey} }
    - { name: carol, roles: [security] }
    - { name: dave, roles: [sre], publicKey: ${keys.dave.publicKey} }
    - { name: olivia, roles: [security] }
maturity:
  promotion:
    minDays: { intern: 14, junior: 7, senior: 30 }
    signoffRoles: [security]
${promotion}`;
}

/** Signed promotion sign-offs against one store backend. */
export function promotionSignedSuite(
  label: string,
  makeStore: () => Promise<{ store: Store; reopen: () => Promise<Store> }>,
): void {
  describe(`signed promotion sign-offs on ${label}`, () => {
    const open = suiteWardens(makeStore);

    const keys = {
      alice: generateAgentKeyPair(),
      bob: generateAgentKeyPair(),
      dave: generateAgentKeyPair(),
    };

    /** A Warden whose agents rookie (Intern, 14 days in) and helper (Junior, 7 days in) are due for promotion. */
    async function setup(text = config(keys)) {
      const { w, store, clock } = await open({ config: text });
      const maturity = w.runtime.service<MaturityService>('maturity')!;
      for (const agent of ['rookie', 'helper'])
        await w.session({ agent }).authorize({ tool: 'read_file', args: {} });
      await w.runtime.ledger.flush();
      clock.advance(14 * DAY + 1);
      return { w, store, clock, maturity };
    }

    /** `who` signs the promotion of `agent` to `to` as it stands now, with `key` (default: their own). */
    async function sign(
      maturity: MaturityService,
      agent: string,
      to: 'junior' | 'senior' | 'principal',
      who: string,
      key: AgentKeyPair,
      note?: string,
      signedAt?: number,
    ) {
      const { fields } = await maturity.statement(agent, to, who, note, signedAt);
      return signPromotion(key.privateKeyPem, fields);
    }

    async function refusals(w: Warden, store: Store) {
      await w.runtime.ledger.flush();
      return store.readLedger({ type: 'phase.promotion_refused' });
    }

    /** Nothing changed: no stored state, still Intern. */
    async function unchanged(store: Store, maturity: MaturityService) {
      expect(maturity.phaseOf('rookie')).toBe('intern');
      expect(await store.getDoc(AGENT_STATE_COLLECTION, 'rookie')).toBeUndefined();
    }

    function signoffLine(r: PromotionResult): string {
      expect(r.ok).toBe(false);
      const line = r.missing.find((m) => m.startsWith('sign-off: '));
      expect(line, r.missing.join('\n')).toBeDefined();
      return line!;
    }

    it('promotes with a valid signed sign-off and keeps what an auditor needs to check it again', async () => {
      const { w, store, clock, maturity } = await setup();
      const st = await maturity.statement('rookie', 'junior', 'alice', 'two clean weeks');
      expect(st.text.split('\n')).toEqual([
        'warden phase promotion v1',
        'agent: "rookie"',
        'from: "intern"',
        'to: "junior"',
        'by: "alice"',
        `evidence: "${st.evidence.digest}"`,
        'note: "two clean weeks"',
        `signed-at: "${new Date(clock.t).toISOString()}"`,
        '',
      ]);
      expect(st.evidence.ok).toBe(true);
      const signature = signPromotion(keys.alice.privateKeyPem, st.fields);
      expect(signature.fingerprint).toBe(keys.alice.fingerprint);
      clock.advance(2 * MINUTE); // still fresh (5m)
      const r = await maturity.promote('rookie', 'junior', 'alice', 'two clean weeks', { signature });
      expect(r).toMatchObject({ ok: true, from: 'intern', to: 'junior', missing: [] });
      expect(r.signoff).toEqual({
        by: 'alice',
        signed: {
          fingerprint: keys.alice.fingerprint,
          signature: signature.signature,
          signedAt: signature.signedAt,
        },
      });
      expect(maturity.phaseOf('rookie')).toBe('junior');

      const doc = await store.getDoc<AgentState>(AGENT_STATE_COLLECTION, 'rookie');
      expect(doc?.body.history.at(-1)).toMatchObject({
        phase: 'junior',
        from: 'intern',
        by: 'alice',
        digest: st.evidence.digest,
        signed: { fingerprint: keys.alice.fingerprint, signature: signature.signature },
      });

      await w.runtime.ledger.flush();
      const [rec] = await store.readLedger({ type: 'phase.promoted' });
      const data = rec!.data as {
        from: 'intern';
        to: 'junior';
        signoff: string;
        note?: string;
        since: number | null;
        evidence: { name: string; ok: boolean }[];
        digest: string;
        signed: { fingerprint: string; signature: string; signedAt: number };
      };
      expect(data.signed.fingerprint).toBe(keys.alice.fingerprint);
      // From the ledger record alone: recompute the digest, rebuild the statement, verify.
      const digest = promotionEvidenceDigest({
        agent: rec!.agent!,
        from: data.from,
        to: data.to,
        since: data.since ?? undefined,
        evidence: data.evidence,
      });
      expect(digest).toBe(data.digest);
      const fields: PromotionFields = {
        agent: rec!.agent!,
        from: data.from,
        to: data.to,
        by: data.signoff,
        evidence: digest,
        note: data.note,
        signedAt: data.signed.signedAt,
      };
      expect(verifyPromotion(keys.alice.publicKey, fields, data.signed.signature)).toBe(true);
      expect(verifyPromotion(keys.bob.publicKey, fields, data.signed.signature)).toBe(false);
      expect(verifyPromotion(keys.alice.publicKey, { ...fields, to: 'senior' }, data.signed.signature)).toBe(
        false,
      );

      const shown = await maturity.explain('rookie');
      expect(shown.lastPromotion).toEqual({
        at: clock.t,
        from: 'intern',
        to: 'junior',
        by: 'alice',
        signed: { fingerprint: keys.alice.fingerprint, signedAt: signature.signedAt },
      });

      // The same signature again is for a promotion from Intern, which rookie no longer is.
      const again = await maturity.promote('rookie', 'junior', 'alice', 'two clean weeks', { signature });
      expect(again.ok).toBe(false);
      expect(maturity.phaseOf('rookie')).toBe('junior');
    });

    it('refuses an unsigned sign-off from a signer with a key, changes nothing, and records the refusal', async () => {
      const { w, store, maturity } = await setup();
      const r = await maturity.promote('rookie', 'junior', 'alice', 'looks fine');
      expect(signoffLine(r)).toBe(
        'sign-off: alice has a publicKey in approvals.approvers, so the sign-off must be signed, and this one is not',
      );
      expect(r.hint).toMatch(/^sign it with alice's private key: signPromotion\(\)/);
      expect(r.hint).toContain('`warden phase promote rookie --to junior --signoff alice --key FILE`');
      expect(r.signoff).toBeUndefined();
      await unchanged(store, maturity);
      const [rec] = await refusals(w, store);
      expect(rec).toMatchObject({
        agent: 'rookie',
        data: {
          from: 'intern',
          to: 'junior',
          signoff: 'alice',
          missing: [expect.stringMatching(/so the sign-off must be signed/)],
          hint: r.hint,
          signature: null,
        },
      });
    });

    it("refuses a signature made with another person's key", async () => {
      const { w, store, maturity } = await setup();
      const signature = await sign(maturity, 'rookie', 'junior', 'alice', keys.bob);
      const r = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature });
      expect(signoffLine(r)).toMatch(
        new RegExp(
          `does not verify with alice's key ${keys.alice.fingerprint.replace(/[+/]/g, '\\$&')}: it was made with another key, or for another agent, phase change, evidence or note$`,
        ),
      );
      expect(r.hint).toMatch(/sign this exact promotion \(rookie, Intern to Junior, the same note\)/);
      await unchanged(store, maturity);
      expect((await refusals(w, store))[0]?.data).toMatchObject({
        signature: { fingerprint: keys.bob.fingerprint, signedAt: signature.signedAt },
      });
    });

    it('refuses a signature for another agent, another target phase or another note', async () => {
      const { w, store, maturity } = await setup();
      // alice signed helper's promotion (Junior to Senior); it does not promote rookie.
      const forHelper = await sign(maturity, 'helper', 'senior', 'alice', keys.alice);
      const r1 = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: forHelper });
      expect(signoffLine(r1)).toMatch(/does not verify with alice's key/);
      // A sign-off for Intern to Senior is not one for Intern to Junior.
      const toSenior = await sign(maturity, 'rookie', 'senior', 'alice', keys.alice);
      const r2 = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: toSenior });
      expect(signoffLine(r2)).toMatch(/does not verify with alice's key/);
      // The note is part of what was signed.
      const noted = await sign(maturity, 'rookie', 'junior', 'alice', keys.alice, 'reviewed');
      const r3 = await maturity.promote('rookie', 'junior', 'alice', 'reviewed, and more', {
        signature: noted,
      });
      expect(signoffLine(r3)).toMatch(/does not verify with alice's key/);
      // Signed by alice, offered as bob's.
      const r4 = await maturity.promote('rookie', 'junior', 'bob', 'reviewed', { signature: noted });
      expect(signoffLine(r4)).toMatch(/does not verify with bob's key/);
      await unchanged(store, maturity);
      expect(await refusals(w, store)).toHaveLength(4);
      // The matching one still works.
      expect((await maturity.promote('rookie', 'junior', 'alice', 'reviewed', { signature: noted })).ok).toBe(
        true,
      );
    });

    it('refuses a stale or future-dated signature, and one that is not a signature at all', async () => {
      const { w, store, clock, maturity } = await setup();
      const old = await sign(maturity, 'rookie', 'junior', 'alice', keys.alice, undefined, clock.t);
      clock.advance(5 * MINUTE + 1);
      const stale = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: old });
      expect(signoffLine(stale)).toMatch(
        /^sign-off: alice's sign-off was signed at \S+, more than 300s ago \(approvals.signedVoteMaxAge\)$/,
      );
      expect(stale.hint).toBe('sign again now; a signature is accepted only while fresh');

      const ahead = await sign(
        maturity,
        'rookie',
        'junior',
        'alice',
        keys.alice,
        undefined,
        clock.t + 31_000,
      );
      const future = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: ahead });
      expect(signoffLine(future)).toMatch(/later than now .* by more than the allowed clock skew of 30s$/);

      const garbled = { ...old, signature: old.signature.slice(0, -4) + 'AAA=' };
      const bad = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: garbled });
      expect(signoffLine(bad)).toMatch(/is malformed|does not verify/);
      const noTime = { signature: old.signature, signedAt: Number.NaN };
      expect(
        signoffLine(await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: noTime })),
      ).toMatch(/is malformed/);
      await unchanged(store, maturity);
      expect(await refusals(w, store)).toHaveLength(4);

      // Within the skew and fresh: accepted.
      const slightlyAhead = await sign(
        maturity,
        'rookie',
        'junior',
        'alice',
        keys.alice,
        undefined,
        clock.t + 10_000,
      );
      expect(
        (await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: slightlyAhead })).ok,
      ).toBe(true);
    });

    it('refuses unknown signers, signers without a sign-off role, and signatures nobody can check', async () => {
      const { w, store, maturity } = await setup();
      const mallory = generateAgentKeyPair();
      const signed = await sign(maturity, 'rookie', 'junior', 'mallory', mallory);
      const r1 = await maturity.promote('rookie', 'junior', 'mallory', undefined, { signature: signed });
      expect(signoffLine(r1)).toBe(
        'sign-off: mallory does not hold a sign-off role (security; maturity.promotion.signoffRoles)',
      );
      const daveSigned = await sign(maturity, 'rookie', 'junior', 'dave', keys.dave);
      const r2 = await maturity.promote('rookie', 'junior', 'dave', undefined, { signature: daveSigned });
      expect(signoffLine(r2)).toMatch(/dave does not hold a sign-off role/);
      // carol may sign off but has no key: a signature from her cannot be checked, so it is refused.
      const carolSigned = await sign(maturity, 'rookie', 'junior', 'carol', mallory);
      const r3 = await maturity.promote('rookie', 'junior', 'carol', undefined, { signature: carolSigned });
      expect(signoffLine(r3)).toBe(
        'sign-off: the sign-off is signed, but carol has no publicKey in approvals.approvers to check it against',
      );
      expect(r3.hint).toContain('warden keys generate carol --approver');
      // The owner may not sign off, signed or not.
      const r4 = await maturity.promote('rookie', 'junior', 'olivia');
      expect(signoffLine(r4)).toMatch(/olivia owns rookie and may not sign off its promotion/);
      await unchanged(store, maturity);
      expect(await refusals(w, store)).toHaveLength(4);
      // carol without a signature is a name, as before: accepted and shown as unsigned.
      const ok = await maturity.promote('rookie', 'junior', 'carol');
      expect(ok).toMatchObject({ ok: true, signoff: { by: 'carol', signed: undefined } });
      expect((await maturity.explain('rookie')).lastPromotion).toMatchObject({
        by: 'carol',
        signed: undefined,
      });
    });

    it('without signoffRoles, any listed approver may sign off, and nobody else', async () => {
      const { store, maturity } = await setup(config(keys).replace('    signoffRoles: [security]\n', ''));
      const r = await maturity.promote('rookie', 'junior', 'mallory');
      expect(signoffLine(r)).toBe(
        'sign-off: mallory is not an approver (approvals.approvers), so may not sign off a promotion',
      );
      await unchanged(store, maturity);
      const signature = await sign(maturity, 'rookie', 'junior', 'dave', keys.dave);
      expect((await maturity.promote('rookie', 'junior', 'dave', undefined, { signature })).ok).toBe(true);
    });

    it('with maturity.promotion.requireSignedSignoff, a signer without a key cannot sign off', async () => {
      const { w, store, maturity } = await setup(config(keys, '    requireSignedSignoff: true\n'));
      const r = await maturity.promote('rookie', 'junior', 'carol');
      expect(signoffLine(r)).toBe(
        'sign-off: carol has no publicKey in approvals.approvers, and maturity.promotion.requireSignedSignoff needs every sign-off signed',
      );
      expect(r.hint).toMatch(/only approvers with a publicKey can sign off/);
      await unchanged(store, maturity);
      expect(await refusals(w, store)).toHaveLength(1);
      const signature = await sign(maturity, 'rookie', 'junior', 'bob', keys.bob);
      expect((await maturity.promote('rookie', 'junior', 'bob', undefined, { signature })).ok).toBe(true);
    });

    it('refuses a sign-off of other evidence than the promotion now has, and says so', async () => {
      const { store, maturity } = await setup();
      const signature = await sign(maturity, 'rookie', 'junior', 'alice', keys.alice);
      // A module adds a check after alice signed: it passes, but alice did not see it.
      maturity.addEvidence({
        name: 'checklist',
        description: 'the pre-deployment questions',
        check: () => Promise.resolve({ ok: true, detail: 'all answered' }),
      });
      const r = await maturity.promote('rookie', 'junior', 'alice', undefined, { signature });
      expect(signoffLine(r)).toMatch(
        /^sign-off: alice signed off other evidence \(digest [0-9a-f]{12}\.\.\.\) than this promotion now has/,
      );
      expect(r.hint).toBe(
        'review the evidence again (`warden phase show rookie`) and sign the current statement',
      );
      await unchanged(store, maturity);
      const fresh = await sign(maturity, 'rookie', 'junior', 'alice', keys.alice);
      expect(fresh.evidence).not.toBe(signature.evidence);
      expect((await maturity.promote('rookie', 'junior', 'alice', undefined, { signature: fresh })).ok).toBe(
        true,
      );
    });

    it('checks the statement fields it is given', () => {
      const base = {
        agent: 'rookie',
        from: 'intern' as const,
        to: 'junior' as const,
        by: 'alice',
        evidence: 'ab'.repeat(32),
        signedAt: Date.UTC(2026, 0, 1),
      };
      expect(promotionStatement(base)).toContain('note: ""\nsigned-at: "2026-01-01T00:00:00.000Z"\n');
      // A note cannot spell out a line of its own.
      expect(promotionStatement({ ...base, note: 'ok"\nto: "principal' }).split('\n')).toHaveLength(9);
      expect(() => promotionStatement({ ...base, evidence: 'nope' })).toThrow(/evidence must be/);
      expect(() => promotionStatement({ ...base, to: 'boss' as never })).toThrow(/must be phases/);
      expect(() => promotionStatement({ ...base, signedAt: -1 })).toThrow(/signedAt/);
      expect(verifyPromotion(keys.alice.publicKey, { ...base, evidence: 'nope' }, 'x')).toBe(false);
    });
  });
}
