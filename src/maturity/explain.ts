import type { Policy } from '../config/policy.js';
import type { Phase } from '../config/schema.js';
import { WardenError } from '../core/errors.js';
import type { ActionsService } from '../actions/extension.js';
import type { CapUsage, PhaseGate } from './gate.js';
import { nextPhase, rankOf, summary, title } from './phases.js';
import type { PromotionResult, Promotions } from './promotion.js';
import type { PhaseChange } from './state.js';

/** What `warden phase show AGENT` prints: what the agent may do now, and why. */
export interface PhaseExplanation {
  agent: string;
  owner: string;
  /** Phase in warden.yaml. */
  configPhase: Phase;
  /** Effective phase (store overrides config). */
  phase: Phase;
  /** Where the effective phase comes from. */
  source: 'store' | 'config' | 'store (unreadable: treated as intern)';
  since: number | undefined;
  summary: string;
  /** One line per declared tool. */
  tools: { tool: string; class: string; now: string }[];
  memoryWrites: string;
  preApproved: string[];
  caps: CapUsage[];
  grants: string;
  history: PhaseChange[];
  /** The latest promotion in the history: who signed it off, and their signature when it was signed. */
  lastPromotion: LastPromotion | undefined;
  /** Evidence for the next promotion, when there is a next phase. */
  next: PromotionResult | undefined;
}

/** The latest promotion of an agent, as `warden phase show` reports it. */
export interface LastPromotion {
  at: number;
  from: Phase;
  to: Phase;
  /** Who signed off. */
  by: string;
  /** The sign-off's signature (key fingerprint, time); undefined when the sign-off was a name only. */
  signed: { fingerprint: string; signedAt: number } | undefined;
}

/** The latest change in a history that went up a phase. */
export function lastPromotionOf(history: readonly PhaseChange[]): LastPromotion | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i] as PhaseChange;
    if (h.from === undefined || rankOf(h.phase) <= rankOf(h.from)) continue;
    return {
      at: h.at,
      from: h.from,
      to: h.phase,
      by: h.by,
      signed: h.signed ? { fingerprint: h.signed.fingerprint, signedAt: h.signed.signedAt } : undefined,
    };
  }
  return undefined;
}

/** Builds the explanation. */
export async function explainPhase(
  agentId: string,
  deps: {
    policy: Policy;
    gate: PhaseGate;
    promotions: Promotions;
    actions: ActionsService | undefined;
    now: number;
  },
): Promise<PhaseExplanation> {
  const { policy, gate, promotions, actions } = deps;
  const agent = policy.agent(agentId);
  if (!agent) throw new WardenError('NOT_FOUND', `agent ${JSON.stringify(agentId)} is not in warden.yaml`);
  const { state, broken } = await promotions.stateOf(agentId);
  const phase: Phase = broken ? 'intern' : (state?.phase ?? agent.phase);
  const since = await promotions.sinceOf(agentId, state);
  const pre = gate.preApprovedOf(agentId).map((p) => p.label);
  const caps = gate.usage(agentId, deps.now);
  const grants = actions?.matcher.forAgent(agentId);
  const undeclared = policy.config.actions?.undeclaredGrants ?? 'all-declared-tools';
  const tools = policy.config.tools.map((t) => {
    let now: string;
    if (t.class === 'read') now = 'runs';
    else if (phase === 'intern') now = 'denied (Intern is read-only)';
    else if (phase === 'junior') now = 'needs approval (Junior)';
    else if (phase === 'senior')
      now =
        pre.length > 0
          ? 'runs alone if in a pre-approved class, else needs approval'
          : 'needs approval (no pre-approved classes)';
    else if (gate.capsOf(agentId).length === 0)
      now = 'needs approval unless pre-approved (Principal without caps)';
    else now = 'runs alone inside the caps; beyond a cap needs approval';
    if (grants) {
      const group = grants.byTool.get(t);
      if (!group || group.allow.length === 0) now = `denied (no grant)${group?.deny.length ? '' : ''}`;
      else {
        const narrowed = group.allow.some((g) => g.where.constraints.length > 0 || g.rate !== undefined);
        if (group.deny.length > 0 || narrowed)
          now += `; grants: ${group.allow.map((g) => g.label).join(', ')}${group.deny.length > 0 ? `; denied where ${group.deny.map((g) => g.label).join(', ')} match` : ''}`;
      }
    } else if (undeclared === 'none') {
      now = 'denied (no grants declared; actions.undeclaredGrants: none)';
    }
    const rules = actions?.rules.rules.filter(
      (r) =>
        r.require &&
        (!r.tools || r.tools.some((m) => m(t.name))) &&
        (!r.agents || r.agents.some((m) => m(agentId))) &&
        (!r.classes || r.classes.includes(t.class)),
    );
    if (rules && rules.length > 0 && !now.startsWith('denied'))
      now += `; always needs approval where ${rules.map((r) => r.label).join(', ')} match`;
    return { tool: t.server ? `${t.server}/${t.name}` : t.name, class: t.class, now };
  });
  const memoryWrites =
    phase === 'intern'
      ? 'denied'
      : phase === 'junior'
        ? 'need approval'
        : phase === 'senior' || gate.capsOf(agentId).length === 0
          ? 'run alone in pre-approved namespaces, else need approval'
          : 'run alone (memory rules apply)';
  const next = nextPhase(phase);
  return {
    agent: agentId,
    owner: agent.owner,
    configPhase: agent.phase,
    phase,
    source: broken ? 'store (unreadable: treated as intern)' : state ? 'store' : 'config',
    since,
    summary: `${title(phase)}: ${summary(phase)}`,
    tools,
    memoryWrites,
    preApproved: pre,
    caps,
    grants: grants
      ? `${grants.grants.length} grant(s) declared`
      : undeclared === 'none'
        ? 'no grants declared: nothing is allowed (actions.undeclaredGrants: none)'
        : 'no grants declared: every declared tool, subject to the other gates',
    history: state?.history ?? [],
    lastPromotion: lastPromotionOf(state?.history ?? []),
    next: next ? await promotions.evidence(agentId, next) : undefined,
  };
}
