import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../../core/canonical.js';
import type { AgentMessage } from '../../core/types.js';
import { parsePrivateKey } from './keys.js';

/** A signed agent-to-agent envelope (version 1). Travels as `AgentMessage.envelope`. */
export interface MessageEnvelope {
  v: 1;
  alg: 'ed25519';
  from: string;
  to: string;
  /** Random, unique per message: a second message with the same nonce is a replay. */
  nonce: string;
  /** Sender's wall time, ms since the epoch. */
  ts: number;
  /** SHA-256 (hex) of the payload. */
  digest: string;
  /** Base64 Ed25519 signature over the canonical JSON of every other field. */
  sig: string;
}

/** What `signMessage` signs. */
export interface MessageToSign {
  from: string;
  to: string;
  payload: string;
  /** Defaults to 16 random bytes, base64url. */
  nonce?: string;
  /** Defaults to now. */
  ts?: number;
}

function signedPart(e: Omit<MessageEnvelope, 'sig'>): Buffer {
  return Buffer.from(
    canonicalJson({ v: e.v, alg: e.alg, from: e.from, to: e.to, nonce: e.nonce, ts: e.ts, digest: e.digest }),
    'utf8',
  );
}

/**
 * Signs a message for another agent. Returns the `AgentMessage` to hand to the recipient's
 * `session.message(...)`: the payload and the signed envelope binding sender, recipient, nonce, time and the
 * payload's digest.
 */
export function signMessage(
  privateKey: string | KeyObject,
  message: MessageToSign,
): AgentMessage & { envelope: MessageEnvelope } {
  const key = parsePrivateKey(privateKey);
  const unsigned: Omit<MessageEnvelope, 'sig'> = {
    v: 1,
    alg: 'ed25519',
    from: message.from,
    to: message.to,
    nonce: message.nonce ?? randomBytes(16).toString('base64url'),
    ts: message.ts ?? Date.now(),
    digest: sha256Hex(message.payload),
  };
  const sig = sign(null, signedPart(unsigned), key).toString('base64');
  const envelope: MessageEnvelope = { ...unsigned, sig };
  return {
    from: message.from,
    to: message.to,
    payload: message.payload,
    envelope: envelope as unknown as Record<string, unknown> & MessageEnvelope,
  };
}

/** Why an envelope failed, in words, or undefined when its shape is right. */
export function envelopeShapeProblem(raw: unknown): string | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return 'the envelope is not an object';
  const e = raw as Record<string, unknown>;
  if (e.v !== 1) return 'unsupported envelope version';
  if (e.alg !== 'ed25519') return 'unsupported signature algorithm';
  for (const f of ['from', 'to', 'nonce', 'digest', 'sig'] as const) {
    if (typeof e[f] !== 'string' || e[f].length === 0 || e[f].length > 512)
      return `envelope.${f} is missing or malformed`;
  }
  if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) return 'envelope.ts is missing or malformed';
  return undefined;
}

/** Verifies the signature of a well-shaped envelope with the sender's public key. */
export function verifySignature(envelope: MessageEnvelope, publicKey: KeyObject): boolean {
  try {
    return verify(null, signedPart(envelope), publicKey, Buffer.from(envelope.sig, 'base64'));
  } catch {
    return false;
  }
}
