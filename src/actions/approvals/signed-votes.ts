import { createPublicKey, type KeyObject } from 'node:crypto';
import { WardenError } from '../../core/errors.js';
import {
  checkSignedStatement,
  signStatement,
  statementText,
  statementTime,
  verifyStatement,
  type AcceptedSignature,
  type StatementProblem,
} from '../../core/signed-statement.js';
import { parsePrivateKey, publicKeyFingerprint } from '../../observe/messages/keys.js';

/**
 * Signed approver votes. An approver who declares a `publicKey` under `approvals.approvers` signs each
 * vote with the matching Ed25519 private key, so a vote's approver is a key holder, not a name typed
 * after `--as`.
 *
 * What is signed is a short text statement that binds the vote to exactly one request and call: the
 * request id, the call digest, the decision, the approver's name, the note or reason, and when it was
 * signed. Every value is written as a JSON string on its own labelled line, so two different votes can
 * never produce the same statement, and a person can read what they sign. Warden never parses the
 * statement: it rebuilds it from the vote it is asked to record and checks the signature against that.
 */

/** What a vote does: approve or deny a pending request, or cancel an open one. */
export type VoteDecision = 'approve' | 'deny' | 'cancel';

/** The fields a vote statement binds. */
export interface VoteFields {
  /** The full request id (not a prefix). */
  requestId: string;
  /** The request's call digest (`ApprovalRequest.digest`). */
  digest: string;
  decision: VoteDecision;
  /** The approver's name, as in `approvals.approvers`. */
  by: string;
  /** The approve note, or the deny or cancel reason. Absent and empty are the same. */
  note?: string | undefined;
  /** When the approver signed, in wall-clock milliseconds. */
  signedAt: number;
}

/** A signature over a vote statement, as passed to `Approvals.approve/deny/cancel`. */
export interface VoteSignature {
  /** Ed25519 signature of the statement, base64 (64 bytes). */
  signature: string;
  /** The `signedAt` the statement was built with. */
  signedAt: number;
  /** Fingerprint of the signing key (informative; Warden checks against the approver's declared key). */
  fingerprint?: string;
}

/** What Warden stores with a signed vote (and writes to the ledger): who signed, with which key, when. */
export type SignedBy = AcceptedSignature;

/** First line of every statement: names the format so a signature cannot be taken for another kind of message. */
export const VOTE_STATEMENT_HEADER = 'warden approval vote v1';

/** How far in the future a signature's `signedAt` may be (the approver's clock runs ahead) before it is refused. */
export const MAX_VOTE_CLOCK_SKEW_MS = 30_000;

const DECISIONS: readonly VoteDecision[] = ['approve', 'deny', 'cancel'];

function problemWith(fields: VoteFields): string | undefined {
  if (typeof fields !== 'object' || fields === null) return 'the vote fields are missing';
  if (typeof fields.requestId !== 'string' || fields.requestId === '')
    return 'requestId must be the request id';
  if (typeof fields.digest !== 'string' || fields.digest === '') return 'digest must be the request digest';
  if (!DECISIONS.includes(fields.decision)) return 'decision must be approve, deny or cancel';
  if (typeof fields.by !== 'string' || fields.by.trim() === '') return 'by must name the approver';
  if (fields.note !== undefined && typeof fields.note !== 'string') return 'note must be text';
  if (
    !Number.isSafeInteger(fields.signedAt) ||
    fields.signedAt < 0 ||
    Number.isNaN(new Date(fields.signedAt).getTime())
  )
    return 'signedAt must be a time in milliseconds';
  return undefined;
}

/**
 * The statement an approver signs for a vote (UTF-8 text). Show it to the approver before they sign:
 * it is exactly what their signature will say. Throws `INVALID_ARGUMENT` for malformed fields.
 */
export function voteStatement(fields: VoteFields): string {
  const problem = problemWith(fields);
  if (problem) throw new WardenError('INVALID_ARGUMENT', `cannot build a vote statement: ${problem}`);
  return statementText(VOTE_STATEMENT_HEADER, [
    ['request', fields.requestId],
    ['digest', fields.digest],
    ['decision', fields.decision],
    ['by', fields.by],
    ['note', fields.note ?? ''],
    ['signed-at', statementTime(fields.signedAt)],
  ]);
}

/** Fingerprint (`SHA256:...`) of the public half of a private key. */
export function privateKeyFingerprint(privateKey: string | KeyObject): string {
  const spki = createPublicKey(parsePrivateKey(privateKey)).export({ type: 'spki', format: 'der' });
  return publicKeyFingerprint(spki.toString('base64'));
}

/**
 * Signs a vote with the approver's Ed25519 private key (PKCS#8 PEM as written by
 * `warden keys generate NAME --approver --out FILE`, or a KeyObject). `signedAt` defaults to now.
 * Pass the result as `{ signature }` to `Approvals.approve`, `deny` or `cancel`, with the same note.
 * For approval UIs (a chat bot, a web page) that hold the approver's key or relay their signature.
 */
export function signVote(
  privateKey: string | KeyObject,
  fields: Omit<VoteFields, 'signedAt'> & { signedAt?: number },
): VoteSignature {
  const key = parsePrivateKey(privateKey);
  const full: VoteFields = { ...fields, signedAt: fields.signedAt ?? Date.now() };
  const signature = signStatement(key, voteStatement(full));
  return { signature, signedAt: full.signedAt, fingerprint: privateKeyFingerprint(key) };
}

/**
 * Whether `signature` is a valid signature of the statement for `fields` under `publicKey` (base64 SPKI
 * DER, PEM or a KeyObject). Never throws: anything malformed is simply not valid. Lets an auditor
 * re-check a vote from its ledger record.
 */
export function verifyVote(publicKey: string | KeyObject, fields: VoteFields, signature: string): boolean {
  let text: string;
  try {
    text = voteStatement(fields);
  } catch {
    return false;
  }
  return verifyStatement(publicKey, text, signature);
}

/** A vote's signature checked against the approver's declared key: what to store, or why it is refused. */
export type SignatureCheck =
  { ok: true; signed: SignedBy | undefined } | { ok: false; why: string; hint: string };

/** What `checkVoteSignature` needs to know. */
export interface SignatureCheckInput {
  fields: Omit<VoteFields, 'signedAt'>;
  signature: VoteSignature | undefined;
  /** The approver's declared key, when they have one. */
  key: { key: KeyObject; fingerprint: string } | undefined;
  /** `approvals.requireSignedVotes`. */
  required: boolean;
  /** `approvals.signedVoteMaxAge` in milliseconds. */
  maxAgeMs: number;
  /** Wall time that never goes back (for age), and the raw clock (for "in the future"). */
  now: number;
  rawNow: number;
}

/**
 * Checks a vote's signature. An approver with a declared key must sign; a signature is refused when it
 * does not verify over this exact request, digest, decision, name and note, when it is older than
 * `maxAgeMs`, or when it is dated beyond the allowed clock skew. A signature from someone without a
 * declared key is refused too: nothing could check it, and a UI must not believe it counted.
 */
export function checkVoteSignature(input: SignatureCheckInput): SignatureCheck {
  const { fields } = input;
  const check = checkSignedStatement({
    text: (signedAt) => voteStatement({ ...fields, signedAt }),
    signature: input.signature,
    key: input.key,
    required: input.required,
    maxAgeMs: input.maxAgeMs,
    skewMs: MAX_VOTE_CLOCK_SKEW_MS,
    now: input.now,
    rawNow: input.rawNow,
  });
  if (check.ok) return check;
  return { ok: false, ...refusal(check.problem, input) };
}

/** A refused vote signature in the approver's terms: what went wrong and what to do. */
function refusal(problem: StatementProblem, input: SignatureCheckInput): { why: string; hint: string } {
  const { fields } = input;
  const who = fields.by;
  const signedAt = input.signature?.signedAt ?? 0;
  switch (problem) {
    case 'signed-without-key':
      return {
        why: `the vote is signed, but ${who} has no publicKey in approvals.approvers to check it against`,
        hint: `add ${who}'s publicKey (printed by \`warden keys generate ${who} --approver\`) to approvals.approvers`,
      };
    case 'key-required':
      return {
        why: `${who} has no publicKey in approvals.approvers, and approvals.requireSignedVotes needs every vote signed`,
        hint: 'only approvers with a publicKey can vote while approvals.requireSignedVotes is on',
      };
    case 'unsigned':
      return {
        why: `${who} has a publicKey in approvals.approvers, so their vote must be signed, and this one is not`,
        hint: `sign it with ${who}'s private key: signVote() in code, or \`warden approvals ${fields.decision} ID --as ${who} --key FILE\``,
      };
    case 'malformed':
      return {
        why: `the signature on ${who}'s vote is malformed (expected 64 bytes of base64 and signedAt in milliseconds)`,
        hint: 'pass the object signVote() returns, unchanged',
      };
    case 'mismatch':
      return {
        why: `the signature on ${who}'s vote does not verify with ${who}'s key ${input.key?.fingerprint ?? ''}: it was made with another key, or for another request, decision or note`,
        hint: `sign this exact vote (request ${fields.requestId}, decision ${fields.decision}, the same note) with ${who}'s own key`,
      };
    case 'future':
      return {
        why: `${who}'s vote is signed at ${new Date(signedAt).toISOString()}, later than now (${new Date(input.rawNow).toISOString()}) by more than the allowed clock skew of ${MAX_VOTE_CLOCK_SKEW_MS / 1000}s`,
        hint: "check the signing machine's clock, then sign again",
      };
    case 'stale':
      return {
        why: `${who}'s vote was signed at ${new Date(signedAt).toISOString()}, more than ${Math.round(input.maxAgeMs / 1000)}s ago (approvals.signedVoteMaxAge)`,
        hint: 'sign again now; a signature is accepted only while fresh',
      };
  }
}
