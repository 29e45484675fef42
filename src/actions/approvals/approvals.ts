import { WardenError } from '../../core/errors.js';
import type { ApprovalRequest, ApprovalStatus, ApprovalVote } from './digest.js';
import { isOpen, type ApprovalRecords } from './records.js';
import {
  checkVoteSignature,
  voteStatement,
  type SignatureCheck,
  type VoteDecision,
  type VoteFields,
  type VoteSignature,
} from './signed-votes.js';

/**
 * The approvals API used by the CLI, the gateway and the control plane: list, inspect, approve, deny,
 * cancel. Every change is a compare-and-set on the stored request (two approvers racing both count;
 * the same approver twice counts once), re-sealed, written to the ledger and announced to replicas.
 * Refusals throw `WardenError` with code `APPROVAL_INVALID` (or `NOT_FOUND`) and a message saying why.
 * An approver who declares a publicKey votes with a signature (see signed-votes.ts); an unsigned or
 * invalid one is refused and written to the ledger as `approval.refused`, and the request is unchanged.
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

/** Options of a vote (approve, deny, cancel). */
export interface VoteOptions {
  /**
   * The approver's signature of this vote (`signVote` over the fields `statement()` returns, with the
   * same note or reason). Required when the approver declares a publicKey, or `requireSignedVotes` is on.
   */
  signature?: VoteSignature;
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

  /**
   * Approves as `by`. Grants the request once the quorum of distinct eligible approvers is reached.
   * When `by` declares a publicKey, `options.signature` must be their signature of this vote (`signVote`).
   */
  async approve(id: string, by: string, note?: string, options: VoteOptions = {}): Promise<ApprovalView> {
    return this.vote(id, by, 'approve', note, options);
  }

  /** Denies as `by` (one eligible approver's deny is final). `reason` is required; it is what a signature covers. */
  async deny(id: string, by: string, reason: string, options: VoteOptions = {}): Promise<ApprovalView> {
    if (reason.trim() === '') throw new WardenError('INVALID_ARGUMENT', 'a deny needs a reason');
    return this.vote(id, by, 'deny', reason, options);
  }

  /**
   * Cancels an open request (the caller no longer needs it, or an operator withdraws it). When `by` is an
   * approver with a publicKey, or `approvals.requireSignedVotes` is on, the cancel must be signed like a vote.
   */
  async cancel(id: string, by: string, reason: string, options: VoteOptions = {}): Promise<ApprovalView> {
    if (by.trim() === '') throw new WardenError('INVALID_ARGUMENT', 'name who cancels');
    const r = this.records;
    const full = await this.resolveId(id);
    let refused: { why: string; hint: string } | undefined;
    let changed: Awaited<ReturnType<ApprovalRecords['update']>>;
    try {
      changed = await r.update(full, (req) => {
        if (!isOpen(req.status))
          return `request ${req.id} is ${req.status}; only pending or granted requests can be cancelled`;
        const check = this.checkSignature(req, by, 'cancel', reason, options.signature);
        if (!check.ok) {
          refused = check;
          return check.why;
        }
        return {
          ...req,
          status: 'cancelled',
          resolvedAt: r.now(),
          resolvedBy: [by],
          note: reason,
          ...(check.signed ? { cancelSigned: check.signed } : {}),
        };
      });
    } catch (error) {
      throw await this.refused(full, 'cancel', by, refused, error);
    }
    if (!changed) throw new WardenError('INTERNAL', 'cancel changed nothing');
    await r.announce(changed.after, 'approval.cancelled', {
      by,
      reason,
      signed: changed.after.cancelSigned ?? null,
    });
    return this.view(changed.after, true);
  }

  /**
   * The statement `by` signs to cast this vote: its fields (pass them to `signVote`) and its text (show
   * it to the approver before they sign). `id` may be a unique prefix; the statement names the full id.
   */
  async statement(
    id: string,
    by: string,
    decision: VoteDecision,
    note?: string,
    signedAt: number = this.records.now(),
  ): Promise<{ fields: VoteFields; text: string }> {
    const { request } = await this.get(id);
    const fields: VoteFields = {
      requestId: request.id,
      digest: request.digest,
      decision,
      by,
      ...(note === undefined ? {} : { note }),
      signedAt,
    };
    return { fields, text: voteStatement(fields) };
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

  /** Checks the signature `by` gave (or did not give) for this vote on this request. */
  private checkSignature(
    req: ApprovalRequest,
    by: string,
    decision: VoteDecision,
    note: string | undefined,
    signature: VoteSignature | undefined,
  ): SignatureCheck {
    const r = this.records;
    const { section } = r.deps.rules;
    return checkVoteSignature({
      fields: { requestId: req.id, digest: req.digest, decision, by, note },
      signature,
      key: r.deps.rules.approverKey(by),
      required: section.requireSignedVotes,
      maxAgeMs: section.signedVoteMaxAge,
      now: r.now(),
      rawNow: r.rawNow(),
    });
  }

  /**
   * After a refused change: writes `approval.refused` when the refusal was ours (not a store error), marks
   * the request expired when that is why, and returns the error to throw (with a hint when there is one).
   */
  private async refused(
    id: string,
    decision: VoteDecision,
    by: string,
    refusal: { why: string; hint?: string } | undefined,
    error: unknown,
  ): Promise<unknown> {
    if (refusal === undefined) return error;
    const r = this.records;
    const read = await r.read(id);
    if (read) await r.refuse(read.doc.body, `${decision} by ${by} refused: ${refusal.why}`);
    if (read && read.doc.body.status === 'pending' && r.expired(read.doc.body)) await r.expire(id);
    if (refusal.hint !== undefined && error instanceof WardenError && error.code === 'APPROVAL_INVALID')
      return new WardenError('APPROVAL_INVALID', error.message, { hint: refusal.hint, cause: error });
    return error;
  }

  private async vote(
    id: string,
    by: string,
    decision: 'approve' | 'deny',
    note: string | undefined,
    options: VoteOptions,
  ): Promise<ApprovalView> {
    const r = this.records;
    const full = await this.resolveId(id);
    let refused: { why: string; hint?: string } | undefined;
    const refuse = (why: string, hint?: string): string => {
      refused = hint === undefined ? { why } : { why, hint };
      return why;
    };
    let changed: Awaited<ReturnType<ApprovalRecords['update']>>;
    try {
      changed = await r.update(full, (req) => {
        if (req.status !== 'pending')
          return refuse(`request ${req.id} is ${req.status}; only pending requests take votes`);
        const clock = r.clockProblem(req);
        if (clock) return refuse(clock);
        if (r.expired(req))
          return refuse(`request ${req.id} expired at ${new Date(req.expiresAt).toISOString()}`);
        const refusal = r.deps.rules.refusal(req, by, decision);
        if (refusal) return refuse(refusal);
        if (req.votes.some((v) => v.by === by)) return refuse(`${by} has already voted on request ${req.id}`);
        // Last, so a replayed signature is reported as the second vote it is.
        const check = this.checkSignature(req, by, decision, note, options.signature);
        if (!check.ok) return refuse(check.why, check.hint);
        const at = r.now();
        const vote: ApprovalVote = {
          by,
          at,
          decision,
          ...(note === undefined ? {} : { note }),
          ...(check.signed ? { signed: check.signed } : {}),
        };
        const votes = [...req.votes, vote];
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
      throw await this.refused(full, decision, by, refused, error);
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
      // Who signed, with which key: with id, digest, decision, by and note above, enough to check it again.
      signed: after.votes.find((v) => v.by === by)?.signed ?? null,
      approvals: after.votes.filter((v) => v.decision === 'approve').length,
      quorum: after.policy.quorum,
    });
    return this.view(after, true);
  }
}
