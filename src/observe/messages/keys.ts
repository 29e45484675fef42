import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { WardenError } from '../../core/errors.js';

/** An agent's Ed25519 key pair in the forms Warden stores them. */
export interface AgentKeyPair {
  /** Base64 SPKI DER: the value for `agents[].publicKey` in warden.yaml. */
  publicKey: string;
  /** PKCS#8 PEM: what the agent keeps (file mode 0600). Never goes into warden.yaml or the ledger. */
  privateKeyPem: string;
  /** Short fingerprint of the public key, shown in the inventory. */
  fingerprint: string;
}

/** Generates a fresh Ed25519 identity for an agent. */
export function generateAgentKeyPair(): AgentKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    publicKey: spki.toString('base64'),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint: fingerprintOfDer(spki),
  };
}

function fingerprintOfDer(der: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
}

/**
 * Parses a public key as warden.yaml holds it: base64 SPKI DER, or PEM. Throws `INVALID_ARGUMENT` for
 * anything else, including a key that is not Ed25519.
 */
export function parsePublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    const t = text.trim();
    key = t.startsWith('-----BEGIN')
      ? createPublicKey(t)
      : createPublicKey({ key: Buffer.from(t, 'base64'), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new WardenError('INVALID_ARGUMENT', 'the public key is neither base64 SPKI DER nor PEM', { cause });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new WardenError(
      'INVALID_ARGUMENT',
      `the public key is ${key.asymmetricKeyType ?? 'unknown'}, not ed25519`,
    );
  }
  return key;
}

/** Parses a private key (PKCS#8 PEM, or a KeyObject passed through). */
export function parsePrivateKey(key: string | KeyObject): KeyObject {
  if (typeof key !== 'string') return key;
  try {
    const k = createPrivateKey(key);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error(`key is ${k.asymmetricKeyType ?? 'unknown'}`);
    return k;
  } catch (cause) {
    throw new WardenError('INVALID_ARGUMENT', 'the private key is not an Ed25519 PKCS#8 PEM key', { cause });
  }
}

/** Fingerprint of a public key given as warden.yaml holds it. */
export function publicKeyFingerprint(text: string): string {
  return fingerprintOfDer(parsePublicKey(text).export({ type: 'spki', format: 'der' }));
}
