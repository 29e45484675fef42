import type { Phase } from '../../config/schema.js';
import { deny, reason, type StageOutcome } from '../../core/decision.js';
import type { Escalation } from '../../core/types.js';
import { STAGE_ORDER, type Stage, type StageContext } from '../../pipeline/stage.js';
import type { CedarAnswer, CedarEngine } from './cedar.js';
import type { CompiledGrant, GrantMatcher, GrantVerdict } from './matcher.js';
import type { WindowCounters, WindowEntry } from './rate-limit.js';

/**
 * The least-privilege gate for tool calls: grants (compiled), then Cedar only when it can change the
 * outcome, then the rate of the grant that allows the call. A refusal carries an escalation naming who can
 * extend the grants and what is missing; the gate never widens anything itself.
 */

/** What the stage needs. */
export interface LeastPrivilegeOptions {
  matcher: GrantMatcher;
  cedar: CedarEngine | undefined;
  counters: WindowCounters;
  /** Called when a reserved rate unit becomes final (the decision was `allow`), to share it with replicas. */
  onCommit?: (key: string, perMs: number, ts: number) => void;
}

function formatMs(ms: number): string {
  const units: [number, string][] = [
    [604_800_000, 'w'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  for (const [n, u] of units) if (ms % n === 0) return `${ms / n}${u}`;
  return `${ms}ms`;
}

/** The least-privilege stage. */
export function leastPrivilegeStage(options: LeastPrivilegeOptions): Stage {
  const { matcher, cedar, counters } = options;
  /** Rate units reserved by `evaluate`, settled by `observe`. */
  const reserved = new Map<string, { key: string; perMs: number; entry: WindowEntry }>();

  const escalation = (ctx: StageContext, missing: string): Escalation => {
    const grantors = ctx.policy.config.actions?.grantors ?? [];
    return { who: grantors.length > 0 ? [...grantors] : [ctx.agent?.owner ?? 'the agent owner'], missing };
  };

  const refuse = (
    ctx: StageContext,
    message: string,
    evidence: Record<string, unknown>,
    missing: string,
  ): StageOutcome => deny(reason('least-privilege', 3, 'ASI03', message, evidence), escalation(ctx, missing));

  const refuseByGrants = (
    ctx: StageContext,
    v: Exclude<GrantVerdict, { kind: 'allow' } | { kind: 'unrestricted' }>,
  ): StageOutcome => {
    const agent = ctx.event.actor.agent;
    const tool = ctx.tool?.name ?? '?';
    switch (v.kind) {
      case 'deny-grant':
        return refuse(
          ctx,
          `grant ${v.grant.label} of ${agent} denies this ${tool} call${v.grant.reason ? ` (${v.grant.reason})` : ''}`,
          { grant: v.grant.label, tool, effect: 'deny' },
          `the deny grant ${v.grant.label} must be changed in warden.yaml; nothing else can allow this call`,
        );
      case 'none': {
        const ev: Record<string, unknown> = { tool, why: v.why };
        let msg: string;
        let missing: string;
        switch (v.why) {
          case 'no-grants':
            msg = `${agent} holds no grants (\`grants: []\`), so it may not call ${tool}`;
            missing = `a grant of ${tool} to ${agent}`;
            break;
          case 'no-tool-grant':
            msg = `${agent} holds no grant for ${tool}`;
            missing = `a grant of ${tool} to ${agent}`;
            break;
          case 'lapsed':
            msg = `the grant that covered this ${tool} call for ${agent} has lapsed`;
            missing = `a renewed grant of ${tool} to ${agent}`;
            break;
          case 'no-match':
            msg = `no grant of ${agent} covers this ${tool} call${v.closest ? `: ${v.closest.failures.join('; ')}` : ''}`;
            missing = `a grant of ${tool} to ${agent} covering these arguments${v.closest ? ` (closest: ${v.closest.grant.label}; ${v.closest.failures.join('; ')})` : ''}`;
            if (v.closest) {
              ev.closest = v.closest.grant.label;
              ev.failures = v.closest.failures;
            }
            break;
        }
        return refuse(ctx, msg, ev, missing);
      }
    }
  };

  const cedarRefusal = (ctx: StageContext, a: CedarAnswer): StageOutcome =>
    refuse(
      ctx,
      `Cedar policy ${a.policies.join(', ')} forbids this ${ctx.tool?.name ?? ''} call by ${ctx.event.actor.agent}`,
      { cedar: a.policies, ...(a.errors.length > 0 ? { errors: a.errors } : {}) },
      `a change to the Cedar policy ${a.policies.join(', ')}`,
    );

  return {
    name: 'least-privilege',
    order: STAGE_ORDER.leastPrivilege,
    kinds: ['tool.call'],
    evaluate(ctx) {
      const event = ctx.event;
      if (event.kind !== 'tool.call') return undefined;
      const agent = ctx.agent;
      const tool = ctx.tool;
      // The registry stage refuses unknown agents and tools first; refuse here too rather than assume.
      if (!agent || !tool)
        return refuse(ctx, 'an unknown agent or tool holds no grants', {}, 'declare the agent and the tool');
      const v = matcher.match(agent.id, tool, event.call, ctx.now);
      if (v.kind === 'deny-grant') return refuseByGrants(ctx, v);
      const grantsAllow = v.kind === 'allow' || v.kind === 'unrestricted';
      if (cedar) {
        const rel = cedar.relevant(agent.id, tool);
        // Ask Cedar only when its answer can change the outcome: a forbid can refuse what grants allow,
        // a permit can allow what grants do not.
        if (grantsAllow ? rel.forbid : rel.permit || rel.forbid) {
          const phase =
            ctx.runtime.service<{ phaseOf(id: string): Phase }>('maturity')?.phaseOf(agent.id) ?? agent.phase;
          const a = cedar.evaluate({
            agent,
            tool,
            call: event.call,
            actor: event.actor,
            phase,
            taint: ctx.session.taint,
            now: ctx.now,
          });
          if (a.effect === 'forbid') return cedarRefusal(ctx, a);
          if (!grantsAllow) {
            if (a.effect === 'permit') return undefined;
            return refuseByGrants(ctx, v);
          }
        }
      }
      if (v.kind === 'unrestricted') return undefined;
      if (v.kind !== 'allow') return refuseByGrants(ctx, v);
      return reserve(ctx, v.candidates);
    },
    observe(ctx, decision) {
      const r = reserved.get(ctx.eventId);
      if (!r) return;
      reserved.delete(ctx.eventId);
      if (decision.verdict === 'allow') options.onCommit?.(r.key, r.perMs, r.entry.ts);
      else counters.release(r.key, r.entry);
    },
  };

  function reserve(ctx: StageContext, candidates: readonly CompiledGrant[]): StageOutcome | undefined {
    let full: CompiledGrant | undefined;
    for (const g of candidates) {
      if (!g.rate) return undefined;
      const entry = counters.tryAcquire(g.rateKey, g.rate.perMs, ctx.now, g.rate.count);
      if (entry) {
        // Bounded: a decision that never reaches `observe` (a crash mid-decision) must not leak forever.
        if (reserved.size > 100_000) reserved.clear();
        reserved.set(ctx.eventId, { key: g.rateKey, perMs: g.rate.perMs, entry });
        return undefined;
      }
      full ??= g;
    }
    const g = full as CompiledGrant;
    const rate = g.rate as { count: number; perMs: number };
    return refuse(
      ctx,
      `${ctx.event.actor.agent} reached the rate of grant ${g.label}: ${rate.count} ${ctx.tool?.name ?? ''} calls per ${formatMs(rate.perMs)}`,
      { grant: g.label, count: rate.count, per: formatMs(rate.perMs) },
      `wait for the ${formatMs(rate.perMs)} window to pass, or a grant with a higher rate`,
    );
  }
}

export { formatMs };
