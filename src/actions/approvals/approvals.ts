import { WardenError } from '../../core/errors.js';
import type { ApprovalRequest, ApprovalStatus } from './digest.js';
import { isOpen, type ApprovalRecords } from './records.js';

/**
 * The approvals API used by the CLI, the gateway and the control plane: list, inspect, approve, deny,
 * cancel. Every change is a compare-and-set on the stored request (two approvers racing both count;
 * the same approver twice counts once), re-sealed, written to the ledger and announced to replicas.
 * Refusals throw `WardenError` with code `APPROVAL_INVALID` (or `NOT_FOUND`) and a message saying why.
 */

/** One request as the API shows it. */
export interface ApprovalView {
  request: ApprovalRequest;
  /** False when the stored body does not match its seal: shown, never acted on. */
  verified: boolean;
  /** The request is past its expiry (even if no sweep has marked it yet). */
  expired: boolean;
  /** Approvers counted so far and the quorum. */
  approvals: number;
  quorum: number;
}

/** Filter for `list`. */
export interface ApprovalFilter {
  status?: ApprovalStatus | 'open';
  agent?: string;
  session?: string;
}

/** The approvals API. Obtain it from a Warden as the `approvals.api` service. */
export class Approvals {
  private readonly records: ApprovalRecords;

  /** @internal Created by the actions extension. */
  constructor(records: ApprovalRecords) {
    this.records = records;
  }

  private view(request: ApprovalRequest, verified: boolean): ApprovalView {
    return {
      request,
      verified,
      expired: this.records.expired(request),
      approvals: new Set(request.votes.filter((v) => v.decision === 'approve').map((v) => v.by)).size,
      quorum: request.policy.quorum,
    };
  }

  /** Requests, newest first. `status: 'open'` means pending or granted-but-unused and not expired. */
  async list(filter: ApprovalFilter = {}): Promise<ApprovalView[]> {
    const out: ApprovalView[] = [];
    for (const { doc, verified } of await this.records.list()) {
      const req = doc.body;
      if (filter.agent !== undefined && req.agent !== filter.agent) continue;
      if (filter.session !== undefined && req.session !== filter.session) continue;
      const v = this.view(req, verified);
      if (filter.status === 'open' && !(isOpen(req.status) && !v.expired)) continue;
      if (filter.status !== undefined && filter.status !== 'open' && req.status !== filter.status) continue;
      out.push(v);
    }
    return out.sort((a, b) => b.request.createdAt - a.request.createdAt);
  }

  /** One request by id (or by a unique prefix of its id). Throws NOT_FOUND. */
  async get(id: string): Promise<ApprovalView> {
    const full = await this.resolveId(id);
    const read = await this.records.read(full);
    if (!read) throw new WardenError('NOT_FOUND', `no approval request ${JSON.stringify(id)}`);
    return this.view(read.doc.body, read.verified);
  }

  /** Approves as `by`. Grants the request once the quorum of distinct eligible approvers is reached. */
  async approve(id: string, by: string, note?: string): Promise<ApprovalView> {
    return this.vote(id, by, 'approve', note);
  }

  /** Denies as `by` (one eligible approver's deny is final). `reason` is required. */
  async deny(id: string, by: string, reason: string): Promise<ApprovalView> {
    if (reason.trim() === '') throw new WardenError('INVALID_ARGUMENT', 'a deny needs a reason');
    return this.vote(id, by, 'deny', reason);
  }

  /** Cancels an open request (the caller no longer needs it, or an operator withdraws it). */
  async cancel(id: string, by: string, reason: string): Promise<ApprovalView> {
    if (by.trim() === '') throw new WardenError('INVALID_ARGUMENT', 'name who cancels');
    const r = this.records;
    const full = await this.resolveId(id);
    const changed = await r.update(full, (req) => {
      if (!isOpen(req.status))
        return `request ${req.id} is ${req.status}; only pending or granted requests can be cancelled`;
      return { ...req, status: 'cancelled', resolvedAt: r.now(), resolvedBy: [by], note: reason };
    });
    if (!changed) throw new WardenError('INTERNAL', 'cancel changed nothing');
    await r.announce(changed.after, 'approval.cancelled', { by, reason });
    return this.view(changed.after, true);
  }

  /** Expands a unique id prefix (at least 8 characters) to a full id; a full id is returned as is. */
  async resolveId(id: string): Promise<string> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 200)
      throw new WardenError('INVALID_ARGUMENT', 'an approval id is needed');
    if (await this.records.read(id)) return id;
    if (id.length < 8) throw new WardenError('NOT_FOUND', `no approval request ${JSON.stringify(id)}`);
    const hits = (await this.records.list()).filter((x) => x.doc.id.startsWith(id) || x.doc.id.endsWith(id));
    if (hits.length === 1) return (hits[0] as { doc: { id: string } }).doc.id;
    if (hits.length > 1)
      throw new WardenError(
        'INVALID_ARGUMENT',
        `${JSON.stringify(id)} matches ${hits.length} requests; give more of the id`,
      );
    throw new WardenError('NOT_FOUND', `no approval request ${JSON.stringify(id)}`, {
      hint: 'list them with `warden approvals list`',
    });
  }

  private async vote(
    id: string,
    by: string,
    decision: 'approve' | 'deny',
    note: string | undefined,
  ): Promise<ApprovalView> {
    const r = this.records;
    const full = await this.resolveId(id);
    let refusedFor: string | undefined;
    let changed: Awaited<ReturnType<ApprovalRecords['update']>>;
    try {
      changed = await r.update(full, (req) => {
        if (req.status !== 'pending')
          return (refusedFor = `request ${req.id} is ${req.status}; only pending requests take votes`);
        const clock = r.clockProblem(req);
        if (clock) return (refusedFor = clock);
        if (r.expired(req))
          return (refusedFor = `request ${req.id} expired at ${new Date(req.expiresAt).toISOString()}`);
        const refusal = r.deps.rules.refusal(req, by, decision);
        if (refusal) return (refusedFor = refusal);
        if (req.votes.some((v) => v.by === by))
          return (refusedFor = `${by} has already voted on request ${req.id}`);
        const at = r.now();
        const votes = [...req.votes, { by, at, decision, ...(note === undefined ? {} : { note }) }];
        if (decision === 'deny')
          return { ...req, votes, status: 'denied', resolvedAt: at, resolvedBy: [by], note: note ?? '' };
        const approvers = [...new Set(votes.filter((v) => v.decision === 'approve').map((v) => v.by))];
        if (approvers.length >= req.policy.quorum) {
          return {
            ...req,
            votes,
            status: 'granted',
            resolvedAt: at,
            resolvedBy: approvers,
            ...(note === undefined ? {} : { note }),
          };
        }
        return { ...req, votes };
      });
    } catch (error) {
      if (refusedFor !== undefined) {
        const read = await r.read(full);
        if (read) await r.refuse(read.doc.body, `${decision} by ${by} refused: ${refusedFor}`);
        if (read && read.doc.body.status === 'pending' && r.expired(read.doc.body)) await r.expire(full);
      }
      throw error;
    }
    if (!changed) throw new WardenError('INTERNAL', 'the vote changed nothing');
    const after = changed.after;
    const type =
      after.status === 'granted'
        ? 'approval.granted'
        : after.status === 'denied'
          ? 'approval.denied'
          : 'approval.vote';
    await r.announce(after, type, {
      by,
      decision,
      note,
      approvals: after.votes.filter((v) => v.decision === 'approve').length,
      quorum: after.policy.quorum,
    });
    return this.view(after, true);
  }
}
