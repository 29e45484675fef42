import { deny, needApproval, reason, type StageOutcome } from '../core/decision.js';
import type { Decision, Escalation, Reason } from '../core/types.js';
import { STAGE_ORDER, type Stage, type StageContext } from '../pipeline/stage.js';
import type { SourceRef } from './provenance/index.js';
import { sessionTrust } from './session-trust.js';
import type { TrustSettings } from './settings.js';
import { labelOf } from './tiers.js';

/** Human-readable name of where content came from. */
export function describeSource(s: Omit<SourceRef, 'eventId'> | undefined): string {
  if (!s) return 'an earlier event';
  const what =
    s.kind === 'result'
      ? `the result of ${s.name}`
      : s.kind === 'message'
        ? `a message from ${s.name}`
        : `${s.name} content`;
  return s.ref === undefined ? what : `${what} (${s.ref})`;
}

function sourceEvidence(s: Omit<SourceRef, 'eventId'> | undefined): Record<string, unknown> | undefined {
  if (!s) return undefined;
  return s.ref === undefined
    ? { kind: s.kind, name: s.name, tier: s.tier }
    : { kind: s.kind, name: s.name, ref: s.ref, tier: s.tier };
}

/** Combines reasons: any deny wins, else approve, else no objection. */
export function combine(
  denials: Reason[],
  approvals: Reason[],
  escalation: Escalation | undefined,
): StageOutcome | undefined {
  if (denials.length > 0) {
    const out = deny(denials[0] as Reason, escalation);
    out.reasons = [...denials, ...approvals];
    return out;
  }
  if (approvals.length > 0) {
    const out = needApproval(approvals[0] as Reason, escalation);
    out.reasons = approvals;
    return out;
  }
  return undefined;
}

/**
 * Trust tiers and session taint (Domain 2). Labels content (ingest, tool results, agent messages) with its tier;
 * restricts sensitive tools while tier-2 or tier-3 content is in the context; withholds credentials while tainted;
 * and, after a flagged injection, sends the next consequential call to a person. Its `observe` keeps the taint and
 * the provenance index up to date once the decision is known.
 *
 * "Directly triggered by tier 2" means here: a sensitive tool called while tier-2 content is in the context with
 * no tier-1 turn since (this stage, `taint.tier2`), or a consequential call whose identifier comes only from tier-2
 * content (the verification stage, `verification.tier2`).
 */
export function taintStage(settings: TrustSettings): Stage {
  const t = settings.section.taint;
  return {
    name: 'trust-taint',
    order: STAGE_ORDER.trust,
    kinds: ['ingest', 'tool.result', 'message', 'tool.call', 'credential.issue'],
    evaluate(ctx) {
      const e = ctx.event;
      if (e.kind === 'ingest' || e.kind === 'tool.result' || e.kind === 'message') {
        const label = labelOf(e, ctx.tool ? settings.tool(ctx.tool) : undefined, settings, ctx.policy);
        return label ? { verdict: 'allow', reasons: [], tier: label.tier } : undefined;
      }
      const st = sessionTrust(ctx.session, settings);
      const taint = st.effective(ctx.session);
      const owner = ctx.agent ? [ctx.agent.owner] : [];
      if (e.kind === 'credential.issue') {
        if (taint < t.credentialIssueAt) return undefined;
        return deny(
          reason(
            'taint',
            2,
            'ASI03',
            `credential ${e.credential.name} is not issued while tier-${taint} content is in the context (${describeSource(st.taintedBy)})`,
            {
              taint,
              credential: e.credential.name,
              taintedBy: sourceEvidence(st.taintedBy),
            },
          ),
          {
            who: owner,
            missing: 'a new instruction from the user (tier 1) before credentials are handed out',
          },
        );
      }
      if (e.kind !== 'tool.call' || !ctx.tool) return undefined;
      const tool = settings.tool(ctx.tool);
      const denials: Reason[] = [];
      const approvals: Reason[] = [];
      if (tool.sensitive && taint >= 2) {
        const action = taint === 3 ? t.tier3 : t.tier2;
        if (action !== 'allow') {
          const r = reason(
            'taint',
            2,
            'ASI01',
            taint === 3
              ? `${tool.config.name} is a sensitive tool and tier-3 content (${describeSource(st.taintedBy)}) entered the context since the last user turn`
              : `tier-2 content (${describeSource(st.taintedBy)}) may inform reads but not trigger ${tool.config.name}, a sensitive tool, without a user turn`,
            {
              taint,
              tool: tool.config.name,
              class: tool.config.class,
              taintedBy: sourceEvidence(st.taintedBy),
            },
          );
          (action === 'deny' ? denials : approvals).push(r);
        }
      }
      const pending = st.pending;
      if (pending && tool.consequential) {
        approvals.push(
          reason(
            'injection',
            2,
            'ASI01',
            `a prompt injection was flagged in ${describeSource(pending.source)}; the next consequential call needs a person`,
            {
              injectionEvent: pending.eventId,
              score: pending.score,
              rules: pending.rules,
            },
          ),
        );
      }
      return combine(denials, approvals, {
        who: owner,
        missing: "a new instruction from the user (tier 1), or a person's approval of this exact call",
      });
    },
    observe(ctx, decision) {
      learn(ctx, decision, settings);
    },
  };
}

/** After a decision: taint and index what entered the context; clear a pending injection once a person let a call through. */
function learn(ctx: StageContext, decision: Decision, settings: TrustSettings): void {
  const e = ctx.event;
  const st = sessionTrust(ctx.session, settings);
  if (e.kind === 'tool.call') {
    const once = settings.section.injection.approveAfter === 'next';
    if (once && decision.verdict === 'allow' && ctx.tool && settings.tool(ctx.tool).consequential)
      st.pending = undefined;
    return;
  }
  if (e.kind !== 'ingest' && e.kind !== 'tool.result' && e.kind !== 'message') return;
  const label = labelOf(e, ctx.tool ? settings.tool(ctx.tool) : undefined, settings, ctx.policy);
  if (!label) return;
  const entered = decision.verdict === 'allow' || decision.verdict === 'approve';
  if (!entered) {
    // Refused content should not be in the context, but a caller may show it anyway: never lower trust for it,
    // and do not let its values vouch for anything.
    if (label.tier > 1) st.raise(ctx.session, label.tier, label.source);
    return;
  }
  // Flagged content is tier-3 content whatever its source said: it taints, and its values vouch for nothing.
  const flagged = st.flagged(ctx.eventId);
  if (e.kind === 'ingest' && label.tier === 1 && settings.section.taint.resetOnTier1 && !flagged)
    st.resetTier1(ctx.session);
  else st.raise(ctx.session, flagged ? 3 : label.taint, label.source);
  const content = e.kind === 'ingest' ? e.content.text : e.kind === 'message' ? e.message.payload : e.result;
  const report = st.index.observe(content, {
    cls: flagged ? 'tier3' : label.cls,
    private: label.private,
    source: { ...label.source, eventId: ctx.eventId },
    fields: flagged ? undefined : label.fields,
    proseWords: settings.section.verification.proseWords,
  });
  if (report.truncated) st.truncatedEvents++;
  // Prose found inside an authoritative result taints like the tier-2 content it is.
  if (!flagged && label.cls === 'authoritative' && report.worst === 'tier2' && label.taint < 2)
    st.raise(ctx.session, 2, label.source);
}
