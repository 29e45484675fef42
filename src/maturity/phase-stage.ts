import type { Phase } from '../config/schema.js';
import type { Policy } from '../config/policy.js';
import { STAGE_ORDER, type Stage, type StageContext } from '../pipeline/stage.js';
import { PhaseGate } from './gate.js';

/**
 * Maturity phase as a run-time mode (Intern, Junior, Senior, Principal; see `gate.ts`).
 *
 * The effective phase comes from the `maturity` service (store overrides config, cached in memory and kept
 * fresh by pub/sub), so a decision never waits on the store. Without that service (a Warden created with
 * no extensions) the config's phase applies and the gate compiles its own rules, so the phase gate never
 * silently disappears.
 */

/** What the stage reads from the `maturity` service. */
export interface PhaseSource {
  phaseOf(agentId: string): Phase;
  readonly gate: PhaseGate;
}

/** The phase stage (registered by the core in `warden.ts`). */
export function phaseStage(): Stage {
  let local: { policy: Policy; gate: PhaseGate } | undefined;
  const resolve = (ctx: StageContext): { phase: Phase; gate: PhaseGate } | undefined => {
    const agent = ctx.agent;
    if (!agent) return undefined;
    const svc = ctx.runtime.service<PhaseSource>('maturity');
    if (svc) return { phase: svc.phaseOf(agent.id), gate: svc.gate };
    if (local?.policy !== ctx.policy) local = { policy: ctx.policy, gate: new PhaseGate(ctx.policy) };
    return { phase: agent.phase, gate: local.gate };
  };
  return {
    name: 'phase',
    order: STAGE_ORDER.phase,
    kinds: ['tool.call', 'memory.write'],
    evaluate(ctx) {
      const r = resolve(ctx);
      return r ? r.gate.evaluate(ctx, r.phase) : undefined;
    },
    observe(ctx, decision) {
      const r = resolve(ctx);
      if (r) r.gate.observe(ctx, decision, r.phase);
    },
  };
}

/** @deprecated Kept for callers of the foundation's name: the full phase stage. */
export const internPhaseStage = phaseStage;
