import { createHash, type KeyObject } from 'node:crypto';
import {
  MAX_VOTE_CLOCK_SKEW_MS,
  privateKeyFingerprint,
  type SignedBy,
  type VoteSignature,
} from '../actions/approvals/signed-votes.js';
import type { Phase } from '../config/schema.js';
import { canonicalJson } from '../core/canonical.js';
import { WardenError } from '../core/errors.js';
import {
  checkSignedStatement,
  signStatement,
  statementText,
  statementTime,
  verifyStatement,
  type DeclaredKey,
} from '../core/signed-statement.js';
import { isPhase, title } from './phases.js';

/**
 * Signed promotion sign-offs. An approver who declares a `publicKey` under `approvals.approvers` signs off a
 * promotion with the matching Ed25519 private key (the same key they sign approval votes with), so the
 * sign-off is a key holder, not a name typed after `--signoff`.
 *
 * The statement binds the sign-off to one promotion: the agent, the phase it leaves and the one it enters,
 * the signer's name, the digest of the evidence the promotion checked, the note, and when it was signed.
 * Warden rebuilds it from the promotion it is asked to make (with evidence it runs again) and checks the
 * signature against that, with the same freshness rules as votes (`approvals.signedVoteMaxAge`, 30 s of
 * clock skew).
 */

/** First line of every promotion statement: a vote signature can never pass for a sign-off. */
export const PROMOTION_STATEMENT_HEADER = 'warden phase promotion v1';

/** The fields a promotion statement binds. */
export interface PromotionFields {
  /** The agent id. */
  agent: string;
  /** The phase the agent is in now. */
  from: Phase;
  /** The phase it is promoted to. */
  to: Phase;
  /** Who signs off, as named in `approvals.approvers`. */
  by: string;
  /** `PromotionResult.digest`: what the promotion checked (see `promotionEvidenceDigest`). */
  evidence: string;
  /** The note kept with the promotion. Absent and empty are the same. */
  note?: string | undefined;
  /** When the signer signed, in wall-clock milliseconds. */
  signedAt: number;
}

/**
 * A signature over a promotion statement, as passed to `promote(..., { signature })`. `evidence` is
 * informative, like `fingerprint`: the digest the signer signed, so a refusal can say the evidence changed.
 */
export interface PromotionSignature extends VoteSignature {
  evidence?: string;
}

/** What a promotion's digest covers. */
export interface EvidenceDigestInput {
  agent: string;
  from: Phase;
  to: Phase;
  /** When the agent entered its current phase, if known. */
  since: number | undefined;
  /** Each check's name and outcome, in the order they ran. */
  evidence: readonly { name: string; ok: boolean }[];
}

/**
 * The digest of what a promotion checked: the agent, the phase change, when the agent entered its phase
 * (which tenure the evidence covers) and each check's name and outcome, in order (SHA-256, hex). The
 * checks' details are prose that may quote the current time ("15.2 days at Intern"), so they are recorded
 * with the promotion but left out of the digest: a signature stays valid while the evidence does not
 * change, not only within the same tenth of a day.
 */
export function promotionEvidenceDigest(input: EvidenceDigestInput): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        v: 1,
        agent: input.agent,
        from: input.from,
        to: input.to,
        since: input.since ?? null,
        evidence: input.evidence.map((e) => [e.name, e.ok]),
      }),
    )
    .digest('hex');
}

function problemWith(f: PromotionFields): string | undefined {
  if (typeof f !== 'object' || f === null) return 'the promotion fields are missing';
  if (typeof f.agent !== 'string' || f.agent === '') return 'agent must be the agent id';
  if (!isPhase(f.from) || !isPhase(f.to)) return 'from and to must be phases';
  if (typeof f.by !== 'string' || f.by.trim() === '') return 'by must name who signs off';
  if (typeof f.evidence !== 'string' || !/^[0-9a-f]{64}$/.test(f.evidence))
    return 'evidence must be the promotion digest (64 hex digits)';
  if (f.note !== undefined && typeof f.note !== 'string') return 'note must be text';
  return undefined;
}

/**
 * The statement a person signs to sign off a promotion (UTF-8 text). Show it to them before they sign: it
 * is exactly what their signature will say. Throws `INVALID_ARGUMENT` for malformed fields.
 */
export function promotionStatement(fields: PromotionFields): string {
  const problem = problemWith(fields);
  if (problem) throw new WardenError('INVALID_ARGUMENT', `cannot build a promotion statement: ${problem}`);
  return statementText(PROMOTION_STATEMENT_HEADER, [
    ['agent', fields.agent],
    ['from', fields.from],
    ['to', fields.to],
    ['by', fields.by],
    ['evidence', fields.evidence],
    ['note', fields.note ?? ''],
    ['signed-at', statementTime(fields.signedAt)],
  ]);
}

/**
 * Signs off a promotion with the signer's Ed25519 private key (PKCS#8 PEM as written by
 * `warden keys generate NAME --approver --out FILE`, or a KeyObject). `signedAt` defaults to now. Pass the
 * result as `{ signature }` to `promote`, with the same note. Get the fields from the maturity service's
 * `statement()`, which runs the evidence.
 */
export function signPromotion(
  privateKey: string | KeyObject,
  fields: Omit<PromotionFields, 'signedAt'> & { signedAt?: number },
): PromotionSignature {
  const full: PromotionFields = { ...fields, signedAt: fields.signedAt ?? Date.now() };
  const signature = signStatement(privateKey, promotionStatement(full));
  return {
    signature,
    signedAt: full.signedAt,
    fingerprint: privateKeyFingerprint(privateKey),
    evidence: full.evidence,
  };
}

/**
 * Whether `signature` is a valid sign-off of the promotion `fields` under `publicKey` (base64 SPKI DER, PEM
 * or KeyObject). Never throws. With a `phase.promoted` ledger record (agent, from, to, signoff, note,
 * digest, signed), lets an auditor check a sign-off again.
 */
export function verifyPromotion(
  publicKey: string | KeyObject,
  fields: PromotionFields,
  signature: string,
): boolean {
  let text: string;
  try {
    text = promotionStatement(fields);
  } catch {
    return false;
  }
  return verifyStatement(publicKey, text, signature);
}

/** A sign-off's signature checked: what to store, or why it is refused and what to do. */
export type SignoffCheck =
  { ok: true; signed: SignedBy | undefined } | { ok: false; why: string; hint: string };

/** What `checkSignoffSignature` needs. */
export interface SignoffCheckInput {
  fields: Omit<PromotionFields, 'signedAt'>;
  signature: PromotionSignature | undefined;
  /** The signer's declared key, when they have one. */
  key: DeclaredKey | undefined;
  /** The setting that makes a signature required for everyone, if one is on. */
  requiredBy: 'approvals.requireSignedVotes' | 'maturity.promotion.requireSignedSignoff' | undefined;
  /** `approvals.signedVoteMaxAge`, in milliseconds. */
  maxAgeMs: number;
  now: number;
  rawNow: number;
}

/**
 * Checks a sign-off's signature with the rules votes follow: a signer with a declared key must sign, over
 * this exact agent, phase change, evidence and note, recently, and not in the future; a signature from a
 * signer without a key is refused (nothing could check it).
 */
export function checkSignoffSignature(input: SignoffCheckInput): SignoffCheck {
  const { fields, signature: s, key } = input;
  const who = fields.by;
  const text = (signedAt: number): string => promotionStatement({ ...fields, signedAt });
  const check = checkSignedStatement({
    text,
    signature: s,
    key,
    required: input.requiredBy !== undefined,
    maxAgeMs: input.maxAgeMs,
    skewMs: MAX_VOTE_CLOCK_SKEW_MS,
    now: input.now,
    rawNow: input.rawNow,
  });
  if (check.ok) return check;
  const cli = `\`warden phase promote ${fields.agent} --to ${fields.to} --signoff ${who} --key FILE\``;
  switch (check.problem) {
    case 'signed-without-key':
      return {
        ok: false,
        why: `the sign-off is signed, but ${who} has no publicKey in approvals.approvers to check it against`,
        hint: `add ${who}'s publicKey (printed by \`warden keys generate ${who} --approver\`) to approvals.approvers`,
      };
    case 'key-required':
      return {
        ok: false,
        why: `${who} has no publicKey in approvals.approvers, and ${input.requiredBy ?? 'a setting'} needs every sign-off signed`,
        hint: `only approvers with a publicKey can sign off while ${input.requiredBy ?? 'it'} is on; add ${who}'s (\`warden keys generate ${who} --approver\`)`,
      };
    case 'unsigned':
      return {
        ok: false,
        why: `${who} has a publicKey in approvals.approvers, so the sign-off must be signed, and this one is not`,
        hint: `sign it with ${who}'s private key: signPromotion() over the fields of statement() in code, or ${cli}`,
      };
    case 'malformed':
      return {
        ok: false,
        why: `the signature on ${who}'s sign-off is malformed (expected 64 bytes of base64 and signedAt in milliseconds)`,
        hint: 'pass the object signPromotion() returns, unchanged',
      };
    case 'mismatch': {
      // Informative only: the claimed digest lets the refusal say the evidence moved under the signature.
      const claimed = s?.evidence;
      if (
        key !== undefined &&
        s !== undefined &&
        typeof claimed === 'string' &&
        claimed !== fields.evidence &&
        /^[0-9a-f]{64}$/.test(claimed) &&
        verifyPromotion(key.key, { ...fields, evidence: claimed, signedAt: s.signedAt }, s.signature)
      ) {
        return {
          ok: false,
          why: `${who} signed off other evidence (digest ${claimed.slice(0, 12)}...) than this promotion now has (${fields.evidence.slice(0, 12)}...): a check's outcome, the checks run or the agent's time at ${title(fields.from)} changed since`,
          hint: `review the evidence again (\`warden phase show ${fields.agent}\`) and sign the current statement`,
        };
      }
      return {
        ok: false,
        why: `the signature on ${who}'s sign-off does not verify with ${who}'s key ${key?.fingerprint ?? ''}: it was made with another key, or for another agent, phase change, evidence or note`,
        hint: `sign this exact promotion (${fields.agent}, ${title(fields.from)} to ${title(fields.to)}, the same note) with ${who}'s own key: ${cli}`,
      };
    }
    case 'future':
      return {
        ok: false,
        why: `${who}'s sign-off is signed at ${new Date(s?.signedAt ?? 0).toISOString()}, later than now (${new Date(input.rawNow).toISOString()}) by more than the allowed clock skew of ${MAX_VOTE_CLOCK_SKEW_MS / 1000}s`,
        hint: "check the signing machine's clock, then sign again",
      };
    case 'stale':
      return {
        ok: false,
        why: `${who}'s sign-off was signed at ${new Date(s?.signedAt ?? 0).toISOString()}, more than ${Math.round(input.maxAgeMs / 1000)}s ago (approvals.signedVoteMaxAge)`,
        hint: 'sign again now; a signature is accepted only while fresh',
      };
  }
}
