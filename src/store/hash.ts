import { canonicalJson, sha256Hex } from '../core/canonical.js';
import type { LedgerEntry } from './store.js';

/** The hash of the first record's predecessor. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Hash of one ledger record: SHA-256 over the previous hash and the canonical JSON of every field but
 * the hash itself, including `seq`, so that editing, removing or reordering any record breaks the chain.
 */
export function recordHash(entry: LedgerEntry, seq: number, prevHash: string): string {
  const body = canonicalJson({
    seq,
    id: entry.id,
    ts: entry.ts,
    mono: entry.mono,
    type: entry.type,
    agent: entry.agent,
    session: entry.session,
    user: entry.user,
    task: entry.task,
    tool: entry.tool,
    verdict: entry.verdict,
    data: entry.data,
  });
  return sha256Hex(prevHash + '\n' + body);
}
