import type { Policy } from '../../config/policy.js';
import { StoreError, WardenError } from '../../core/errors.js';
import type { Redactor } from '../../observe/redact.js';
import type { Clock, Runtime } from '../../pipeline/runtime.js';
import type { Store, StoredDoc } from '../../store/store.js';
import {
  APPROVALS_CHANNEL,
  APPROVALS_COLLECTION,
  seal,
  verifySeal,
  type ApprovalRequest,
  type ApprovalStatus,
} from './digest.js';
import type { ApprovalRules } from './rules.js';

/**
 * The stored side of approvals, shared by the broker (pipeline), the waiter and the `Approvals` API:
 * reading with seal verification, compare-and-set updates that re-seal, expiry, and announcing each
 * change on the ledger and the pub/sub channel.
 */

/** How far in the future a request's `createdAt` may be (clock skew between replicas) before it is refused. */
export const MAX_CLOCK_SKEW_MS = 2_000;
/** Attempts of a compare-and-set loop before giving up with STORE_CONFLICT. */
const CAS_ATTEMPTS = 16;

/** Everything approvals need from the runtime. */
export interface ApprovalDeps {
  store: Store;
  policy: Policy;
  rules: ApprovalRules;
  key: Buffer;
  clock: Clock;
  redactor: Redactor;
  audit: Runtime['audit'];
}

/** A stored request, and whether its seal verified. */
export interface ReadRequest {
  doc: StoredDoc<ApprovalRequest>;
  verified: boolean;
}

/** Message announced on `warden_approvals`. */
export interface ApprovalMessage {
  id: string;
  status: ApprovalStatus;
  agent: string;
  session: string;
  expiresAt: number;
}

/**
 * Open requests per agent, known without reading the store: filled from the store at start and on every
 * sweep, and kept current by the `warden_approvals` messages of every replica. Used for the open-request
 * limit, where a slightly stale count is harmless and a store scan per request would not be.
 */
export class OpenRequests {
  private readonly byId = new Map<string, { agent: string; expiresAt: number }>();

  /** Applies a status change. */
  note(m: { id: string; status: ApprovalStatus; agent: string; expiresAt: number }): void {
    if (m.status === 'pending') this.byId.set(m.id, { agent: m.agent, expiresAt: m.expiresAt });
    else this.byId.delete(m.id);
  }

  /** Applies a message from the channel; malformed ones are ignored. */
  onMessage(m: unknown): void {
    const x = m as Partial<ApprovalMessage> | null;
    if (!x || typeof x.id !== 'string' || typeof x.status !== 'string' || typeof x.agent !== 'string') return;
    this.note({
      id: x.id,
      status: x.status,
      agent: x.agent,
      expiresAt: typeof x.expiresAt === 'number' ? x.expiresAt : Number.POSITIVE_INFINITY,
    });
  }

  /** Replaces everything with a full read of the store. */
  reset(requests: readonly ApprovalRequest[]): void {
    this.byId.clear();
    for (const r of requests) this.note(r);
  }

  /** Pending, unexpired requests of an agent. */
  pendingCount(agent: string, now: number): number {
    let n = 0;
    for (const v of this.byId.values()) if (v.agent === agent && v.expiresAt > now) n++;
    return n;
  }
}

/** Statuses a request can still change from. */
export function isOpen(status: ApprovalStatus): boolean {
  return status === 'pending' || status === 'granted';
}

/** Stored approval requests with verification, CAS and announcements. */
export class ApprovalRecords {
  readonly deps: ApprovalDeps;
  /** Highest wall time seen: a clock that goes back never makes an expired request live again. */
  private highWater = 0;
  /** Open requests per agent (see OpenRequests). */
  readonly open = new OpenRequests();

  constructor(deps: ApprovalDeps) {
    this.deps = deps;
  }

  /** Wall time for expiry checks: never earlier than any time this process has seen. */
  now(): number {
    const t = this.deps.clock.now();
    if (t > this.highWater) this.highWater = t;
    return this.highWater;
  }

  /** The raw clock, for the "created in the future" check. */
  rawNow(): number {
    return this.deps.clock.now();
  }

  /** Why a request's times cannot be trusted now, or undefined. */
  clockProblem(req: ApprovalRequest): string | undefined {
    const raw = this.rawNow();
    if (req.createdAt > raw + MAX_CLOCK_SKEW_MS) {
      return `request ${req.id} was created at ${new Date(req.createdAt).toISOString()}, after the current time ${new Date(raw).toISOString()} (a clock went back, or the request is forged)`;
    }
    if (req.expiresAt <= req.createdAt) return `request ${req.id} expires before it was created`;
    return undefined;
  }

  /** Whether a request's expiry has passed. */
  expired(req: ApprovalRequest): boolean {
    return this.now() >= req.expiresAt;
  }

  /** Reads one request. */
  async read(id: string): Promise<ReadRequest | undefined> {
    const doc = await this.deps.store.getDoc<ApprovalRequest>(APPROVALS_COLLECTION, id);
    if (!doc) return undefined;
    const verified = verifySeal(doc.body, this.deps.key) && doc.body.id === id;
    return { doc, verified };
  }

  /** Every request whose id starts with `prefix`. */
  async list(prefix?: string): Promise<ReadRequest[]> {
    const docs = await this.deps.store.listDocs<ApprovalRequest>(APPROVALS_COLLECTION, prefix);
    return docs.map((doc) => ({
      doc,
      verified: verifySeal(doc.body, this.deps.key) && doc.body.id === doc.id,
    }));
  }

  /** Stores a new request (sealed). Resolves false when the id exists. */
  async create(body: Omit<ApprovalRequest, 'mac'>): Promise<ApprovalRequest> {
    const sealed = seal(body, this.deps.key);
    if (!(await this.deps.store.putDoc(APPROVALS_COLLECTION, sealed.id, sealed, 0))) {
      throw new StoreError('STORE_CONFLICT', `approval request ${sealed.id} already exists`);
    }
    this.open.note(sealed);
    return sealed;
  }

  /**
   * Applies `change` to the current request with compare-and-set, retrying when someone else changed it
   * first. `change` returns the new body, or a string saying why it refuses (thrown as APPROVAL_INVALID),
   * or `null` when there is nothing to do.
   */
  async update(
    id: string,
    change: (req: ApprovalRequest) => Omit<ApprovalRequest, 'mac'> | string | null,
  ): Promise<{ before: ApprovalRequest; after: ApprovalRequest } | null> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const read = await this.read(id);
      if (!read)
        throw new WardenError('NOT_FOUND', `no approval request ${JSON.stringify(id)}`, {
          hint: 'list them with `warden approvals list`',
        });
      if (!read.verified) {
        await this.refuse(
          read.doc.body,
          'its stored body does not match its seal (edited in the store, or forged)',
        );
        throw new WardenError(
          'APPROVAL_INVALID',
          `approval request ${id} failed verification: it was altered or forged, so it is refused`,
        );
      }
      const next = change(read.doc.body);
      if (next === null) return null;
      if (typeof next === 'string') throw new WardenError('APPROVAL_INVALID', next);
      const sealed = seal(next, this.deps.key);
      if (await this.deps.store.putDoc(APPROVALS_COLLECTION, id, sealed, read.doc.version)) {
        this.open.note(sealed);
        return { before: read.doc.body, after: sealed };
      }
    }
    throw new StoreError(
      'STORE_CONFLICT',
      `approval request ${id} kept changing under concurrent updates; try again`,
    );
  }

  /** Marks an open request expired (if it still is open and past expiry) and announces it. */
  async expire(id: string): Promise<void> {
    const r = await this.update(id, (req) =>
      isOpen(req.status) && this.expired(req) ? { ...req, status: 'expired', resolvedAt: this.now() } : null,
    ).catch(() => null);
    if (r)
      await this.announce(r.after, 'approval.expired', {
        expiresAt: r.after.expiresAt,
        was: r.before.status,
      });
  }

  /** Records a refused redemption or vote (tampered, clock) in the ledger. Never throws. */
  async refuse(req: Partial<ApprovalRequest>, why: string): Promise<void> {
    try {
      await this.deps.audit('approval.refused', {
        agent: typeof req.agent === 'string' ? req.agent : null,
        session: typeof req.session === 'string' ? req.session : null,
        data: { id: req.id, why },
      });
    } catch {
      // The refusal itself already protects; a ledger failure here must not turn it into an allow.
    }
  }

  /** Writes the change to the ledger (durably) and tells every replica. */
  async announce(req: ApprovalRequest, type: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.deps.audit(type, {
      agent: req.agent,
      session: req.session,
      data: { id: req.id, tool: req.tool, digest: req.digest, status: req.status, ...data },
    });
    await this.publish(req);
  }

  /** Announces a request's status on the pub/sub channel. Never throws (waiters also poll). */
  async publish(req: ApprovalRequest): Promise<void> {
    const msg: ApprovalMessage = {
      id: req.id,
      status: req.status,
      agent: req.agent,
      session: req.session,
      expiresAt: req.expiresAt,
    };
    try {
      await this.deps.store.publish(APPROVALS_CHANNEL, msg);
    } catch {
      // Waiters re-read the store on a timer, so a lost message only delays them.
    }
  }
}
