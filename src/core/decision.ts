import type { Domain, Escalation, Reason, RiskId, Tier, Verdict } from './types.js';

/**
 * What one stage says about one event. `allow` means "no objection from me"; it may still annotate
 * the event (tier, neutralised content).
 */
export interface StageOutcome {
  verdict: Verdict;
  reasons: Reason[];
  escalation?: Escalation;
  /** Replacement for ingested content (neutralised text). */
  content?: string;
  /** Tier label for ingested content or a tool result. */
  tier?: Tier;
}

/** Builds a reason. */
export function reason(
  control: string,
  domain: Domain,
  risk: RiskId,
  message: string,
  evidence?: Record<string, unknown>,
): Reason {
  return evidence === undefined
    ? { control, domain, risk, message }
    : { control, domain, risk, message, evidence };
}

/** A stage's deny. */
export function deny(r: Reason, escalation?: Escalation): StageOutcome {
  return escalation ? { verdict: 'deny', reasons: [r], escalation } : { verdict: 'deny', reasons: [r] };
}

/** A stage's request for human approval. */
export function needApproval(r: Reason, escalation?: Escalation): StageOutcome {
  return escalation ? { verdict: 'approve', reasons: [r], escalation } : { verdict: 'approve', reasons: [r] };
}

/** A stage's halt (kill switch). */
export function halt(r: Reason): StageOutcome {
  return { verdict: 'halt', reasons: [r] };
}

/** Severity order used when combining: deny and halt stop the pipeline; approve accumulates. */
export function isTerminal(verdict: Verdict): boolean {
  return verdict === 'deny' || verdict === 'halt';
}
