import { deny, needApproval, reason } from '../../core/decision.js';
import { STAGE_ORDER, type Stage, type StageContext } from '../../pipeline/stage.js';
import type { Holds } from './holds.js';

/** True for events that change something: non-read or outbound tool calls, memory writes, credential issues. */
export function isConsequential(ctx: StageContext): boolean {
  switch (ctx.event.kind) {
    case 'tool.call':
      return ctx.tool !== undefined && (ctx.tool.class !== 'read' || ctx.tool.outbound);
    case 'memory.write':
    case 'credential.issue':
      return true;
    default:
      return false;
  }
}

function describe(ctx: StageContext): string {
  const e = ctx.event;
  if (e.kind === 'tool.call') return `${e.call.tool} (${ctx.tool?.class ?? 'unknown'})`;
  if (e.kind === 'memory.write') return `memory write ${e.memory.namespace}/${e.memory.key}`;
  if (e.kind === 'credential.issue') return `credential ${e.credential.name}`;
  return e.kind;
}

/**
 * The sequence stage: applies what detectors and incident response decided about an agent. A quarantined
 * agent's consequential actions need approval (or are denied, by policy); an agent held by an alert's
 * `require-approval` action or by cascade containment needs approval for them. Two map lookups per event,
 * and none while nothing is held.
 */
export function sequenceStage(holds: Holds): Stage {
  return {
    name: 'sequence',
    order: STAGE_ORDER.sequence,
    kinds: ['tool.call', 'memory.write', 'credential.issue'],
    evaluate(ctx) {
      if (holds.empty) return undefined;
      const agent = ctx.event.actor.agent;
      const q = holds.quarantineOf(agent);
      const h = q ? undefined : holds.holdOf(agent, ctx.now);
      if (!q && !h) return undefined;
      if (!isConsequential(ctx)) return undefined;
      const who = ctx.agent ? [ctx.agent.owner] : ['incident response'];
      if (q) {
        const r = reason(
          'quarantine',
          6,
          'ASI10',
          `${agent} is quarantined (${q.reason}); ${describe(ctx)} ${q.mode === 'deny' ? 'is refused' : 'needs approval'}`,
          {
            by: q.by,
            since: new Date(q.since).toISOString(),
            ...(q.alertId ? { alertId: q.alertId } : {}),
          },
        );
        const escalation = {
          who,
          missing: 'the quarantine lifted (`warden agents unquarantine`) after the incident is reviewed',
        };
        return q.mode === 'deny' ? deny(r, escalation) : needApproval(r, escalation);
      }
      const hold = h;
      if (!hold) return undefined;
      const last = hold.reasons[hold.reasons.length - 1];
      const containment = last?.source === 'containment';
      return needApproval(
        reason(
          containment ? 'containment' : 'detector-hold',
          6,
          containment ? 'ASI08' : 'ASI10',
          `${agent} is on hold until ${new Date(hold.until).toISOString()} (${last?.reason ?? 'held'}); ${describe(ctx)} needs approval`,
          {
            reasons: hold.reasons.map((x) => ({
              source: x.source,
              reason: x.reason,
              ...(x.alertId ? { alertId: x.alertId } : {}),
            })),
          },
        ),
        { who, missing: 'a person to review the alert and approve this action, or to close the alert' },
      );
    },
  };
}
