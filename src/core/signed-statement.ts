import { sign, verify, type KeyObject } from 'node:crypto';
import { parsePrivateKey, parsePublicKey } from '../observe/messages/keys.js';
import { WardenError } from './errors.js';

/**
 * Signed statements: short UTF-8 texts a person signs with their Ed25519 key to stand behind one decision
 * (an approval vote, a promotion sign-off). A statement is a header line naming its kind and version, then
 * one `label: "value"` line per field, each value a JSON string, then an empty line. A value can therefore
 * never spell out a line of its own, two different field sets never give the same text, and a person can
 * read what they sign. Warden never parses a statement: it rebuilds it from the decision it is asked to
 * record and checks the signature against that text.
 *
 * `checkSignedStatement` holds the rules every kind shares (a person with a key must sign; a signature
 * nothing can check is refused; a signature must verify, be fresh and not come from the future) and says
 * which rule failed; each kind words the refusal in its own terms.
 */

/** One labelled field of a statement: the label (lowercase, dashes) and its value. */
export type StatementLine = readonly [label: string, value: string];

/** A signature over a statement and when it was made, as a signer passes it with a decision. */
export interface StatementSignature {
  /** Ed25519 signature of the statement, base64 (64 bytes). */
  signature: string;
  /** The `signed-at` time the statement was built with, in wall-clock milliseconds. */
  signedAt: number;
}

/** What is kept once a signature is accepted: the signer's key fingerprint, the signature and its time. */
export interface AcceptedSignature {
  /** Fingerprint of the signer's public key (`SHA256:...`). */
  fingerprint: string;
  signature: string;
  signedAt: number;
}

/** A signer's declared public key, parsed, and its fingerprint. */
export interface DeclaredKey {
  key: KeyObject;
  fingerprint: string;
}

const LABEL_RE = /^[a-z][a-z0-9-]*$/;
/** 64 bytes in padded base64, nothing else: one spelling per signature. */
const SIGNATURE_RE = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

/**
 * The text of a statement: `header`, then `label: "value"` per line, then an empty line. Throws
 * `INVALID_ARGUMENT` for a header spanning lines or a malformed label (a caller's mistake, never input).
 */
export function statementText(header: string, lines: readonly StatementLine[]): string {
  if (header === '' || /[\r\n]/.test(header))
    throw new WardenError('INVALID_ARGUMENT', 'a statement header is one non-empty line');
  const out = [header];
  for (const [label, value] of lines) {
    if (!LABEL_RE.test(label))
      throw new WardenError('INVALID_ARGUMENT', `statement label ${JSON.stringify(label)} is malformed`);
    if (typeof value !== 'string')
      throw new WardenError('INVALID_ARGUMENT', `statement field ${label} must be text`);
    out.push(`${label}: ${JSON.stringify(value)}`);
  }
  out.push('');
  return out.join('\n');
}

/** A time in milliseconds as a statement writes it (ISO 8601, UTC); throws for a value that is not a time. */
export function statementTime(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || Number.isNaN(new Date(ms).getTime()))
    throw new WardenError('INVALID_ARGUMENT', 'signedAt must be a time in milliseconds');
  return new Date(ms).toISOString();
}

/** Whether a value has the one accepted spelling of an Ed25519 signature (64 bytes, padded base64). */
export function isSignatureText(value: unknown): value is string {
  return typeof value === 'string' && SIGNATURE_RE.test(value);
}

/** Signs a statement's text with an Ed25519 private key (PKCS#8 PEM or KeyObject); base64 signature. */
export function signStatement(privateKey: string | KeyObject, text: string): string {
  return sign(null, Buffer.from(text, 'utf8'), parsePrivateKey(privateKey)).toString('base64');
}

/**
 * Whether `signature` is a valid signature of `text` under `publicKey` (base64 SPKI DER, PEM or KeyObject).
 * Never throws: anything malformed is simply not valid.
 */
export function verifyStatement(publicKey: string | KeyObject, text: string, signature: string): boolean {
  if (!isSignatureText(signature)) return false;
  try {
    const key = typeof publicKey === 'string' ? parsePublicKey(publicKey) : publicKey;
    return verify(null, Buffer.from(text, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** What `checkSignedStatement` needs. */
export interface StatementCheckInput {
  /** The statement the signer should have signed, for a given `signedAt` (built by the caller's kind). */
  text: (signedAt: number) => string;
  /** The signature offered, if any. */
  signature: StatementSignature | undefined;
  /** The signer's declared key, when they have one. */
  key: DeclaredKey | undefined;
  /** Whether a signature is needed even from a signer without a declared key (who then cannot act). */
  required: boolean;
  /** How old a signature may be. */
  maxAgeMs: number;
  /** How far past `rawNow` a signature may be dated (the signer's clock runs ahead). */
  skewMs: number;
  /** Wall time that never goes back (for age), and the raw clock (for "in the future"). */
  now: number;
  rawNow: number;
}

/**
 * Which shared rule a signature broke:
 * - `signed-without-key`: signed, but the signer declares no key to check it with;
 * - `key-required`: the signer declares no key and a signature is required;
 * - `unsigned`: the signer declares a key and gave no signature;
 * - `malformed`: not 64 bytes of base64 with a millisecond `signedAt`;
 * - `mismatch`: does not verify over this exact statement with the declared key;
 * - `future`: dated beyond `skewMs` after `rawNow`;
 * - `stale`: older than `maxAgeMs`.
 */
export type StatementProblem =
  'signed-without-key' | 'key-required' | 'unsigned' | 'malformed' | 'mismatch' | 'future' | 'stale';

/** The outcome of `checkSignedStatement`: what to keep (nothing for an accepted unsigned decision), or the broken rule. */
export type StatementCheck =
  { ok: true; signed: AcceptedSignature | undefined } | { ok: false; problem: StatementProblem };

/**
 * Checks the signature (or its absence) on a decision. A signer with a declared key must sign; a signature
 * from a signer without one is refused, since nothing could check it and a caller must not believe it
 * counted. The signature is checked before its time, so a forged signature is reported as forged.
 */
export function checkSignedStatement(input: StatementCheckInput): StatementCheck {
  const { signature: s, key } = input;
  if (key === undefined) {
    if (s !== undefined) return { ok: false, problem: 'signed-without-key' };
    if (input.required) return { ok: false, problem: 'key-required' };
    return { ok: true, signed: undefined };
  }
  if (s === undefined) return { ok: false, problem: 'unsigned' };
  if (
    typeof s !== 'object' ||
    s === null ||
    !isSignatureText(s.signature) ||
    !Number.isSafeInteger(s.signedAt) ||
    s.signedAt < 0
  )
    return { ok: false, problem: 'malformed' };
  let text: string;
  try {
    text = input.text(s.signedAt);
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (!verifyStatement(key.key, text, s.signature)) return { ok: false, problem: 'mismatch' };
  if (s.signedAt > input.rawNow + input.skewMs) return { ok: false, problem: 'future' };
  if (input.now - s.signedAt > input.maxAgeMs) return { ok: false, problem: 'stale' };
  return { ok: true, signed: { fingerprint: key.fingerprint, signature: s.signature, signedAt: s.signedAt } };
}
