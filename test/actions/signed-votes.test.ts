import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkVoteSignature,
  MAX_VOTE_CLOCK_SKEW_MS,
  privateKeyFingerprint,
  signVote,
  verifyVote,
  voteStatement,
  type VoteFields,
} from '../../src/actions/approvals/signed-votes.js';
import { generateAgentKeyPair, parsePublicKey } from '../../src/observe/messages/keys.js';

const T = Date.UTC(2026, 0, 19, 13, 55, 1, 348);
const FIELDS: VoteFields = {
  requestId: 'apr_eeb9b5c0_20548b409c7b620e_88b2940fe9',
  digest: '20548b409c7b620ee7529dacca8c8dfc5ddc6c4262ca1e62c38d61e8dc379d95',
  decision: 'approve',
  by: 'alice',
  note: 'tag checked',
  signedAt: T,
};

describe('vote statements', () => {
  it('is readable text naming the request, digest, decision, approver, note and time', () => {
    expect(voteStatement(FIELDS)).toBe(
      [
        'warden approval vote v1',
        'request: "apr_eeb9b5c0_20548b409c7b620e_88b2940fe9"',
        'digest: "20548b409c7b620ee7529dacca8c8dfc5ddc6c4262ca1e62c38d61e8dc379d95"',
        'decision: "approve"',
        'by: "alice"',
        'note: "tag checked"',
        'signed-at: "2026-01-19T13:55:01.348Z"',
        '',
      ].join('\n'),
    );
    // No note and an empty note say the same thing.
    const noNote: VoteFields = { ...FIELDS };
    delete noNote.note;
    expect(voteStatement(noNote)).toBe(voteStatement({ ...FIELDS, note: '' }));
  });

  it('cannot be made to read like another vote through its free text', () => {
    // A note that spells out further lines stays one JSON string on one line.
    const sneaky = voteStatement({ ...FIELDS, note: 'ok"\nby: "mallory' });
    expect(sneaky.split('\n')).toHaveLength(8);
    expect(sneaky).toContain('note: "ok\\"\\nby: \\"mallory"');
    expect(voteStatement({ ...FIELDS, by: 'alice', note: 'x' })).not.toBe(
      voteStatement({ ...FIELDS, by: 'alice"\nnote: "x', note: '' }),
    );
  });

  it('refuses malformed fields', () => {
    expect(() => voteStatement({ ...FIELDS, decision: 'grant' as never })).toThrow(/decision/);
    expect(() => voteStatement({ ...FIELDS, by: ' ' })).toThrow(/approver/);
    expect(() => voteStatement({ ...FIELDS, requestId: '' })).toThrow(/requestId/);
    expect(() => voteStatement({ ...FIELDS, signedAt: 1.5 })).toThrow(/signedAt/);
    expect(() => voteStatement({ ...FIELDS, signedAt: 9e15 })).toThrow(/signedAt/);
  });
});

describe('signVote and verifyVote', () => {
  const alice = generateAgentKeyPair();
  const bob = generateAgentKeyPair();

  it('signs with the private key and verifies with the public key, for exactly those fields', () => {
    const s = signVote(alice.privateKeyPem, FIELDS);
    expect(s.signedAt).toBe(T);
    expect(s.fingerprint).toBe(alice.fingerprint);
    expect(privateKeyFingerprint(alice.privateKeyPem)).toBe(alice.fingerprint);
    expect(s.signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
    expect(verifyVote(alice.publicKey, FIELDS, s.signature)).toBe(true);
    expect(verifyVote(parsePublicKey(alice.publicKey), FIELDS, s.signature)).toBe(true);
    expect(verifyVote(bob.publicKey, FIELDS, s.signature)).toBe(false);
    const changes: Partial<VoteFields>[] = [
      { requestId: FIELDS.requestId.replace(/9$/, '8') },
      { digest: FIELDS.digest.replace(/^2/, '3') },
      { decision: 'deny' },
      { decision: 'cancel' },
      { by: 'bob' },
      { note: 'tag checked!' },
      { signedAt: T + 1 },
    ];
    for (const c of changes)
      expect(verifyVote(alice.publicKey, { ...FIELDS, ...c }, s.signature)).toBe(false);
  });

  it('fills signedAt with now, and rejects keys that are not Ed25519 private keys', () => {
    const before = Date.now();
    const s = signVote(alice.privateKeyPem, { ...FIELDS, signedAt: undefined });
    expect(s.signedAt).toBeGreaterThanOrEqual(before);
    expect(() => signVote(alice.publicKey, FIELDS)).toThrow(/Ed25519 PKCS#8/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() =>
      signVote(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), FIELDS),
    ).toThrow(/Ed25519/);
  });

  it('never throws while verifying, whatever it is given', () => {
    const s = signVote(alice.privateKeyPem, FIELDS);
    expect(verifyVote('not a key', FIELDS, s.signature)).toBe(false);
    expect(verifyVote(alice.publicKey, FIELDS, `${s.signature} `)).toBe(false);
    expect(verifyVote(alice.publicKey, FIELDS, s.signature.replace(/==$/, ''))).toBe(false);
    expect(verifyVote(alice.publicKey, { ...FIELDS, signedAt: Number.NaN }, s.signature)).toBe(false);
    expect(verifyVote(alice.publicKey, FIELDS, 42 as never)).toBe(false);
  });
});

describe('checkVoteSignature', () => {
  const alice = generateAgentKeyPair();
  const key = { key: parsePublicKey(alice.publicKey), fingerprint: alice.fingerprint };
  const fields: Omit<VoteFields, 'signedAt'> = {
    requestId: FIELDS.requestId,
    digest: FIELDS.digest,
    decision: FIELDS.decision,
    by: FIELDS.by,
    note: FIELDS.note,
  };
  const base = { fields, key, required: false, maxAgeMs: 300_000, now: T, rawNow: T };

  it('accepts a fresh signature and says what to store', () => {
    const signature = signVote(alice.privateKeyPem, FIELDS);
    expect(checkVoteSignature({ ...base, signature })).toEqual({
      ok: true,
      signed: { fingerprint: alice.fingerprint, signature: signature.signature, signedAt: T },
    });
  });

  it('draws the freshness and clock-skew lines exactly', () => {
    const at = (signedAt: number, now = T) =>
      checkVoteSignature({
        ...base,
        now,
        rawNow: now,
        signature: signVote(alice.privateKeyPem, { ...FIELDS, signedAt }),
      });
    expect(at(T - 300_000).ok).toBe(true);
    expect(at(T - 300_001)).toMatchObject({ ok: false, why: expect.stringMatching(/more than 300s ago/) });
    expect(at(T + MAX_VOTE_CLOCK_SKEW_MS).ok).toBe(true);
    expect(at(T + MAX_VOTE_CLOCK_SKEW_MS + 1)).toMatchObject({
      ok: false,
      why: expect.stringMatching(/later than now .* clock skew of 30s/),
    });
  });

  it('knows who must sign, and refuses a signature nothing can check', () => {
    expect(checkVoteSignature({ ...base, signature: undefined })).toMatchObject({
      ok: false,
      why: expect.stringMatching(/alice has a publicKey .* must be signed/),
      hint: expect.stringMatching(/--key FILE/),
    });
    expect(checkVoteSignature({ ...base, key: undefined, signature: undefined })).toEqual({
      ok: true,
      signed: undefined,
    });
    expect(
      checkVoteSignature({ ...base, key: undefined, required: true, signature: undefined }),
    ).toMatchObject({
      ok: false,
      why: expect.stringMatching(/requireSignedVotes/),
    });
    expect(
      checkVoteSignature({ ...base, key: undefined, signature: signVote(alice.privateKeyPem, FIELDS) }),
    ).toMatchObject({ ok: false, why: expect.stringMatching(/no publicKey .* to check it against/) });
    expect(checkVoteSignature({ ...base, signature: { signature: 'AAAA', signedAt: T } })).toMatchObject({
      ok: false,
      why: expect.stringMatching(/malformed/),
    });
    expect(
      checkVoteSignature({
        ...base,
        signature: { signature: signVote(alice.privateKeyPem, FIELDS).signature, signedAt: '1' as never },
      }),
    ).toMatchObject({ ok: false, why: expect.stringMatching(/malformed/) });
  });
});
