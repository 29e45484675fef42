import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { privateKeyFingerprint } from '../actions/approvals/signed-votes.js';
import type { WardenConfig } from '../config/schema.js';
import { parsePrivateKey, publicKeyFingerprint } from '../observe/messages/keys.js';
import { CliExit } from './context.js';
import { EXIT } from './exit-codes.js';

/**
 * A person's signing key at the terminal, for every command that signs on their behalf (approval votes,
 * promotion sign-offs): read from `--key FILE` or `$WARDEN_APPROVER_KEY_FILE`, and the hint to print when
 * the signature is refused, in terms of the command line.
 */

/** Environment variable naming the signer's private key file when `--key` is not given. */
export const APPROVER_KEY_ENV = 'WARDEN_APPROVER_KEY_FILE';

/** The key a command signs with, and where it came from. */
export interface ApproverKey {
  /** Absolute path of the key file. */
  file: string;
  key: KeyObject;
  fingerprint: string;
}

/**
 * Reads the approver's private key named by `--key` (else `$WARDEN_APPROVER_KEY_FILE`); undefined when
 * neither is given. Exits with a usage error when the file cannot be read or holds no Ed25519 key.
 */
export function readApproverKey(given: string | undefined): ApproverKey | undefined {
  const name = given ?? process.env[APPROVER_KEY_ENV];
  if (name === undefined || name === '') return undefined;
  const file = resolve(name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliExit(
      EXIT.usage,
      `cannot read the approver key file ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)}); pass --key FILE with the private key written by \`warden keys generate NAME --approver --out FILE\``,
    );
  }
  try {
    const key = parsePrivateKey(text);
    return { file, key, fingerprint: privateKeyFingerprint(key) };
  } catch {
    throw new CliExit(
      EXIT.usage,
      `${file} is not an Ed25519 private key in PKCS#8 PEM; use the file written by \`warden keys generate NAME --approver --out FILE\``,
    );
  }
}

/**
 * What a person at the terminal should do about a refused signature by `by`, or undefined when the API's
 * own hint says it best. `unsignedAction` is the command to run without `--key` ("approve", "promote").
 */
export function approverKeyHint(
  config: WardenConfig,
  by: string,
  signer: ApproverKey | undefined,
  unsignedAction: string,
): string | undefined {
  const declared = config.approvals?.approvers.find((a) => a.name === by)?.publicKey;
  let fingerprint: string | undefined;
  try {
    fingerprint = declared === undefined ? undefined : publicKeyFingerprint(declared);
  } catch {
    fingerprint = undefined;
  }
  if (declared !== undefined && signer === undefined)
    return `${by} has a publicKey in warden.yaml: pass --key FILE (${by}'s private key) or set ${APPROVER_KEY_ENV}`;
  if (fingerprint !== undefined && signer !== undefined && signer.fingerprint !== fingerprint)
    return `${signer.file} holds the key ${signer.fingerprint}, but ${by}'s publicKey in warden.yaml is ${fingerprint}: sign with ${by}'s own key`;
  if (declared === undefined && signer !== undefined)
    return `${by} has no publicKey in approvals.approvers: add the line printed by \`warden keys generate ${by} --approver\`, or ${unsignedAction} without --key`;
  return undefined;
}
