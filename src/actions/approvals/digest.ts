import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { canonicalJson, digest, sha256Hex } from '../../core/canonical.js';
import { WardenError } from '../../core/errors.js';
import type { Escalation, Reason, WardenEvent } from '../../core/types.js';
import type { Store } from '../../store/store.js';
import type { SignedBy } from './signed-votes.js';

/**
 * What an approval is bound to, and the seal that makes a stored request tamper-evident.
 *
 * A request is bound to `digest({ agent, tool, server, args })` of the exact call (contracts.md): other
 * arguments give another digest, so a grant can never be replayed for a different call. Events that are
 * not tool calls are bound the same way with `tool` = the event kind (`memory.write`), `server` = the
 * memory namespace (or message sender), `args` = the rest of the event.
 *
 * Every stored request carries an HMAC over all its fields. A request whose body was edited in the store
 * (arguments shown to the approver, status, votes, expiry) no longer verifies and is refused.
 */

/** Collection of approval requests in the store. */
export const APPROVALS_COLLECTION = 'approvals';
/** Channel on which request changes are announced. */
export const APPROVALS_CHANNEL = 'warden_approvals';
/** Collection holding the store-kept sealing key when no key is given in the environment. */
export const KEYS_COLLECTION = 'warden_keys';

/** Lifecycle of a request. `granted` is redeemable once; the others are final. */
export type ApprovalStatus = 'pending' | 'granted' | 'denied' | 'expired' | 'cancelled' | 'consumed';

/** One vote on a request. */
export interface ApprovalVote {
  by: string;
  at: number;
  decision: 'approve' | 'deny';
  note?: string;
  /** Present when the approver signed the vote (their `publicKey` is declared): which key, the signature, when. */
  signed?: SignedBy;
}

/** What a request needs before it is granted (fixed when it is created, sealed with it). */
export interface ApprovalPolicy {
  /** Distinct approvers needed. */
  quorum: number;
  /** One list per matching rule: an approver holds at least one role of each list. */
  roles: string[][];
  /** Names of the rules that applied. */
  rules: string[];
  /** Whether the agent's owner may approve. */
  selfApproval: 'forbid' | 'allow';
  /** The agent's owner when the request was made. */
  owner: string;
}

/** An approval request as stored (collection `approvals`, id = `id`). */
export interface ApprovalRequest {
  v: 1;
  id: string;
  /** digest({ agent, tool, server, args }) of the exact call. */
  digest: string;
  status: ApprovalStatus;
  kind: WardenEvent['kind'];
  agent: string;
  session: string;
  user?: string;
  task?: string;
  tenant?: string;
  /** Tool name, or the event kind for other events. */
  tool: string;
  server?: string;
  toolClass?: string;
  /** Arguments as the approver sees them (redacted). The digest covers the real ones. */
  args: unknown;
  /** Where each argument's value came from (trust module), or null when nobody tracks provenance (ASI09). */
  provenance: Record<string, unknown> | null;
  /** The agent's own explanation: its story, not a fact; shown apart from the facts (ASI09). */
  rationale: string | null;
  reasons: Reason[];
  escalation?: Escalation;
  policy: ApprovalPolicy;
  /** Wall-clock ms. A request created "in the future" (a clock went back) is refused. */
  createdAt: number;
  /** Absolute wall-clock ms after which the request (pending or granted) is void. */
  expiresAt: number;
  votes: ApprovalVote[];
  resolvedAt?: number;
  /** Who granted (the approvers), denied or cancelled it. */
  resolvedBy?: string[];
  /** Deny or cancel reason, or the last approver's note. */
  note?: string;
  /** Present when whoever cancelled the request signed the cancel. */
  cancelSigned?: SignedBy;
  consumedAt?: number;
  /** Ledger id of the event that redeemed it. */
  consumedBy?: string;
  /** Ledger id of the event that created it. */
  eventId: string;
  /** HMAC-SHA256 (hex) over every other field. */
  mac: string;
}

/** The call an event stands for, as approvals bind it. */
export interface BoundCall {
  tool: string;
  server: string | undefined;
  args: unknown;
  toolClass?: string;
  rationale?: string;
}

/** What an event binds an approval to. */
export function boundCall(event: WardenEvent): BoundCall {
  switch (event.kind) {
    case 'tool.call':
    case 'tool.result': {
      const out: BoundCall = { tool: event.call.tool, server: event.call.server, args: event.call.args };
      if (event.call.rationale !== undefined) out.rationale = event.call.rationale;
      return out;
    }
    case 'memory.write':
    case 'memory.read':
      return {
        tool: event.kind,
        server: event.memory.namespace,
        args: { key: event.memory.key, value: event.memory.value, goalAltering: event.memory.goalAltering },
      };
    case 'message':
      return {
        tool: event.kind,
        server: event.message.from,
        args: { to: event.message.to, payload: event.message.payload },
      };
    case 'ingest':
      return {
        tool: event.kind,
        server: event.content.source,
        args: { text: event.content.text, ref: event.content.ref },
      };
    case 'credential.issue':
    case 'credential.revoke':
      return { tool: event.kind, server: undefined, args: event.credential };
  }
}

/** The digest a request for this call is bound to. */
export function callDigest(agent: string, call: BoundCall): string {
  return digest({ agent, tool: call.tool, server: call.server, args: call.args });
}

/** Id prefix shared by every request of one agent for one call: lets the broker find them with one lookup. */
export function requestIdPrefix(agent: string, callDigestHex: string): string {
  return `apr_${sha256Hex(agent).slice(0, 8)}_${callDigestHex.slice(0, 16)}_`;
}

/** A new request id for this agent and call. */
export function newRequestId(agent: string, callDigestHex: string): string {
  return requestIdPrefix(agent, callDigestHex) + randomBytes(5).toString('hex');
}

/** Id prefix of every request of one agent. */
export function agentIdPrefix(agent: string): string {
  return `apr_${sha256Hex(agent).slice(0, 8)}_`;
}

/** HMAC over every field but `mac`. */
export function sealOf(body: Omit<ApprovalRequest, 'mac'> | ApprovalRequest, key: Buffer): string {
  const rest: Partial<ApprovalRequest> = { ...(body as ApprovalRequest) };
  delete rest.mac;
  return createHmac('sha256', key).update(canonicalJson(rest)).digest('hex');
}

/** Seals a request (sets `mac`). */
export function seal(body: Omit<ApprovalRequest, 'mac'> | ApprovalRequest, key: Buffer): ApprovalRequest {
  const mac = sealOf(body, key);
  return { ...(body as ApprovalRequest), mac };
}

/** Whether a stored body is a well-formed request whose seal verifies. */
export function verifySeal(body: unknown, key: Buffer): body is ApprovalRequest {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Partial<ApprovalRequest>;
  if (b.v !== 1 || typeof b.mac !== 'string' || !/^[0-9a-f]{64}$/.test(b.mac)) return false;
  if (typeof b.id !== 'string' || typeof b.digest !== 'string' || typeof b.status !== 'string') return false;
  if (typeof b.createdAt !== 'number' || typeof b.expiresAt !== 'number' || !Array.isArray(b.votes))
    return false;
  let expected: string;
  try {
    expected = sealOf(b as ApprovalRequest, key);
  } catch {
    return false;
  }
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(b.mac, 'hex'));
}

/**
 * The sealing key: from the environment variable when set (the production setting: every replica gets
 * the same secret, and someone who can only write to the store cannot forge a grant), otherwise a random
 * key created once in the store (guards against edits and bugs, not against someone who can read the store).
 */
export async function approvalKey(
  store: Store,
  envName: string,
): Promise<{ key: Buffer; source: 'env' | 'store' }> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv.length > 0) {
    if (fromEnv.length < 16) {
      throw new WardenError('CONFIG_INVALID', `${envName} is too short to seal approval requests`, {
        hint: 'use at least 16 characters; 32 random bytes in base64 (`openssl rand -base64 32`) is right',
      });
    }
    return { key: Buffer.from(fromEnv, 'utf8'), source: 'env' };
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const doc = await store.getDoc<{ key: string }>(KEYS_COLLECTION, 'approvals');
    if (doc && typeof doc.body.key === 'string' && doc.body.key.length >= 32)
      return { key: Buffer.from(doc.body.key, 'base64'), source: 'store' };
    const fresh = randomBytes(32).toString('base64');
    if (
      await store.putDoc(
        KEYS_COLLECTION,
        'approvals',
        { key: fresh, createdAt: Date.now() },
        doc ? doc.version : 0,
      )
    ) {
      return { key: Buffer.from(fresh, 'base64'), source: 'store' };
    }
  }
  throw new Error('could not create the approval sealing key in the store');
}
