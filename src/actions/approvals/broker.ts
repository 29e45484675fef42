import { WardenError } from '../../core/errors.js';
import type { Decision } from '../../core/types.js';
import type { KillSwitch } from '../../observe/kill-switch.js';
import type { ApprovalBroker } from '../../pipeline/runtime.js';
import type { SessionState } from '../../pipeline/session-state.js';
import type { StageContext } from '../../pipeline/stage.js';
import type { ApprovalWaiter } from '../../session.js';
import {
  APPROVALS_CHANNEL,
  boundCall,
  callDigest,
  newRequestId,
  requestIdPrefix,
  type ApprovalRequest,
} from './digest.js';
import { isOpen, type ApprovalMessage, type ApprovalRecords } from './records.js';

/**
 * The `approvals` service (ApprovalBroker) and the `approvals.wait` service (ApprovalWaiter).
 *
 * When the pipeline says `approve`, `resolve` looks for requests bound to the same digest: a granted,
 * unexpired one is consumed with compare-and-set (so exactly one call redeems it, even across replicas)
 * and the call goes ahead; a pending one is returned as is (no duplicate requests); otherwise a new
 * request is stored, sealed, announced and written to the ledger.
 */

/** What the trust module offers approvers (contracts.md). */
interface TrustService {
  provenanceOf(session: SessionState, value: unknown): unknown;
}

/** Largest argument payload (canonical JSON bytes) a person is asked to review. */
export const MAX_REVIEW_BYTES = 256 * 1024;
/** Most provenance entries recorded for one request. */
const MAX_PROVENANCE = 64;

/** The broker and waiter over one store. */
export class ApprovalBrokerService implements ApprovalBroker, ApprovalWaiter {
  private readonly records: ApprovalRecords;
  /** Waits in progress, ended with `cancelled` when Warden closes. */
  private readonly waits = new Set<() => void>();

  constructor(records: ApprovalRecords) {
    this.records = records;
  }

  async resolve(ctx: StageContext, decision: Decision): Promise<{ approvalId: string; granted: boolean }> {
    const r = this.records;
    const agent = ctx.event.actor.agent;
    const call = boundCall(ctx.event);
    const d = callDigest(agent, call);
    let pending: ApprovalRequest | undefined;
    for (const { doc, verified } of await r.list(requestIdPrefix(agent, d))) {
      const req = doc.body;
      if (!verified) {
        await r.refuse(req, 'its stored body does not match its seal (edited in the store, or forged)');
        continue;
      }
      if (req.digest !== d || req.agent !== agent || !isOpen(req.status)) continue;
      const clock = r.clockProblem(req);
      if (clock) {
        await r.refuse(req, clock);
        continue;
      }
      if (r.expired(req)) {
        await r.expire(req.id);
        continue;
      }
      if (req.status === 'granted') {
        const consumed = await r
          .update(req.id, (cur) =>
            cur.status === 'granted' && !r.expired(cur) && cur.digest === d
              ? { ...cur, status: 'consumed', consumedAt: r.now(), consumedBy: ctx.eventId }
              : null,
          )
          .catch(() => null);
        if (consumed) {
          await r.announce(consumed.after, 'approval.consumed', {
            eventId: ctx.eventId,
            approvers: consumed.after.resolvedBy ?? [],
          });
          return { approvalId: req.id, granted: true };
        }
        // Someone else redeemed it first: it covers one call only.
        continue;
      }
      if (pending === undefined || req.createdAt < pending.createdAt) pending = req;
    }
    if (pending) return { approvalId: pending.id, granted: false };
    const created = await this.create(ctx, decision, d);
    return { approvalId: created.id, granted: false };
  }

  private async create(ctx: StageContext, decision: Decision, d: string): Promise<ApprovalRequest> {
    const r = this.records;
    const { rules, redactor, policy } = r.deps;
    const agent = ctx.event.actor.agent;
    const call = boundCall(ctx.event);
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(call.args) ?? '', 'utf8');
    } catch {
      size = Infinity;
    }
    if (size > MAX_REVIEW_BYTES) {
      throw new WardenError(
        'APPROVAL_INVALID',
        `the arguments are too large for a person to review (${size} bytes; limit ${MAX_REVIEW_BYTES})`,
      );
    }
    const open = r.open.pendingCount(agent, r.now());
    if (open >= rules.section.maxPendingPerAgent) {
      throw new WardenError(
        'APPROVAL_INVALID',
        `agent ${agent} already has ${open} open approval requests (approvals.maxPendingPerAgent); resolve some first`,
      );
    }
    const toolConfig = ctx.tool;
    const needs = rules.needs(agent, call.tool, toolConfig, call.args);
    const now = r.now();
    const actor = ctx.event.actor;
    const body: Omit<ApprovalRequest, 'mac'> = {
      v: 1,
      id: newRequestId(agent, d),
      digest: d,
      status: 'pending',
      kind: ctx.event.kind,
      agent,
      session: actor.session,
      tool: call.tool,
      args: redactor.value(call.args),
      provenance: this.provenance(ctx, call.args),
      rationale: call.rationale === undefined ? null : redactor.text(call.rationale),
      reasons: redactor.value(decision.reasons) as ApprovalRequest['reasons'],
      policy: rules.policyFor(policy.agent(agent), agent, needs),
      createdAt: now,
      expiresAt: now + needs.expiresMs,
      votes: [],
      eventId: ctx.eventId,
    };
    if (actor.user !== undefined) body.user = actor.user;
    if (actor.task !== undefined) body.task = actor.task;
    if (actor.tenant !== undefined) body.tenant = actor.tenant;
    if (call.server !== undefined) body.server = call.server;
    if (toolConfig) body.toolClass = toolConfig.class;
    if (decision.escalation) body.escalation = decision.escalation;
    const created = await r.create(body);
    await r.announce(created, 'approval.requested', {
      eventId: ctx.eventId,
      expiresAt: created.expiresAt,
      quorum: created.policy.quorum,
      rules: created.policy.rules,
      reasons: created.reasons.map((x) => x.control),
    });
    return created;
  }

  /** Provenance of each argument (and nested member) from the trust module, when it runs. */
  private provenance(ctx: StageContext, args: unknown): Record<string, unknown> | null {
    const trust = ctx.runtime.service<TrustService>('trust');
    if (!trust || typeof trust.provenanceOf !== 'function') return null;
    const out: Record<string, unknown> = {};
    let n = 0;
    const visit = (path: string, value: unknown, depth: number) => {
      if (n >= MAX_PROVENANCE) return;
      if (path !== '') {
        try {
          out[path] = this.records.deps.redactor.value(trust.provenanceOf(ctx.session, value));
        } catch (error) {
          out[path] = { error: error instanceof Error ? error.message : String(error) };
        }
        n++;
      }
      if (depth < 3 && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value as Record<string, unknown>))
          visit(path === '' ? k : `${path}.${k}`, v, depth + 1);
      }
    };
    visit('', args, 0);
    return out;
  }

  /**
   * Waits until the request is decided. Resolves `granted`, `denied`, `expired` (the request expired, or the
   * wait timed out: the request may still be open, resume it later with its id) or `cancelled` (the
   * request was cancelled, or `signal` aborted the wait). A request that fails verification resolves `denied`.
   */
  async wait(
    approvalId: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<'granted' | 'denied' | 'expired' | 'cancelled'> {
    const r = this.records;
    const first = await r.read(approvalId);
    if (!first) throw new WardenError('NOT_FOUND', `no approval request ${JSON.stringify(approvalId)}`);
    type Outcome = 'granted' | 'denied' | 'expired' | 'cancelled';
    return new Promise<Outcome>((resolvePromise) => {
      let done = false;
      let checking = false;
      let again = false;
      const timers: NodeJS.Timeout[] = [];
      let unsubscribe: (() => Promise<void>) | undefined;
      const finish = (o: Outcome) => {
        if (done) return;
        done = true;
        this.waits.delete(onClose);
        for (const t of timers) clearTimeout(t);
        options.signal?.removeEventListener('abort', onAbort);
        void unsubscribe?.().catch(() => undefined);
        resolvePromise(o);
      };
      const onAbort = () => {
        finish('cancelled');
      };
      const onClose = onAbort;
      this.waits.add(onClose);
      const check = async (): Promise<void> => {
        if (done) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          const cur = await r.read(approvalId);
          if (!cur) {
            finish('cancelled');
            return;
          }
          if (!cur.verified) {
            finish('denied');
            return;
          }
          const req = cur.doc.body;
          switch (req.status) {
            case 'granted':
              if (r.expired(req)) {
                await r.expire(req.id);
                finish('expired');
                return;
              }
              {
                finish('granted');
                return;
              }
            case 'consumed': {
              finish('granted');
              return;
            }
            case 'denied': {
              finish('denied');
              return;
            }
            case 'expired': {
              finish('expired');
              return;
            }
            case 'cancelled': {
              finish('cancelled');
              return;
            }
            case 'pending':
              if (r.expired(req)) {
                await r.expire(req.id);
                finish('expired');
                return;
              }
          }
        } catch {
          // A store hiccup: the next poll tries again.
        } finally {
          checking = false;
          if (again && !done) {
            again = false;
            void check();
          }
        }
      };
      if (options.signal?.aborted) {
        finish('cancelled');
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timeoutMs = options.timeoutMs ?? 15 * 60_000;
      timers.push(
        setTimeout(
          () => {
            finish('expired');
          },
          Math.max(0, timeoutMs),
        ),
      );
      const untilExpiry = first.doc.body.expiresAt - r.now();
      if (Number.isFinite(untilExpiry) && untilExpiry < 2 ** 31 - 1)
        timers.push(setTimeout(() => void check(), Math.max(0, untilExpiry) + 5));
      // Pub/sub wakes the waiter at once; a slow poll covers lost messages.
      const poll = () => {
        if (done) return;
        void check();
        timers.push(setTimeout(poll, 1_000).unref());
      };
      r.deps.store
        .subscribe(APPROVALS_CHANNEL, (m) => {
          const msg = m as Partial<ApprovalMessage> | null;
          if (msg && msg.id === approvalId) void check();
        })
        .then(
          (unsub) => {
            if (done) void unsub().catch(() => undefined);
            else unsubscribe = unsub;
          },
          () => undefined,
        )
        .finally(poll);
    });
  }

  /** Ends every wait in progress with `cancelled` (Warden is closing; the requests themselves stay). */
  close(): void {
    for (const end of [...this.waits]) end();
  }

  /** Cancels open requests a kill switch covers. Returns how many. */
  async cancelCovered(sw: KillSwitch): Promise<number> {
    const r = this.records;
    let n = 0;
    for (const { doc, verified } of await r.list()) {
      const req = doc.body;
      if (!verified || !isOpen(req.status)) continue;
      const hit =
        sw.scope === 'global' ||
        (sw.scope === 'agent' && req.agent === sw.target) ||
        (sw.scope === 'session' && req.session === sw.target);
      if (!hit) continue;
      const note = `kill switch engaged (${sw.scope}${sw.scope === 'global' ? '' : ` ${sw.target}`}): ${sw.reason}`;
      const changed = await r
        .update(req.id, (cur) =>
          isOpen(cur.status)
            ? { ...cur, status: 'cancelled', resolvedAt: r.now(), resolvedBy: [sw.by], note }
            : null,
        )
        .catch(() => null);
      if (changed) {
        n++;
        await r
          .announce(changed.after, 'approval.cancelled', {
            by: sw.by,
            reason: note,
            killSwitch: { scope: sw.scope, target: sw.target },
          })
          .catch(() => undefined);
      }
    }
    return n;
  }

  /** Marks every open request past its expiry as expired, and re-reads which requests are open. Returns how many expired. */
  async sweep(): Promise<number> {
    const r = this.records;
    let n = 0;
    const all = await r.list();
    r.open.reset(all.filter((x) => x.verified).map((x) => x.doc.body));
    for (const { doc, verified } of all) {
      if (!verified || !isOpen(doc.body.status) || !r.expired(doc.body)) continue;
      await r.expire(doc.id);
      n++;
    }
    return n;
  }
}
