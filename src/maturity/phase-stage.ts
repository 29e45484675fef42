import { deny, reason } from '../core/decision.js';
import { STAGE_ORDER, type Stage } from '../pipeline/stage.js';

/**
 * Maturity phase as a run-time mode. An Intern is read-only: `write` and `irreversible` tools are
 * denied whatever else the policy says. (Junior, Senior and Principal gates live in the actions module.)
 */
export function internPhaseStage(): Stage {
  return {
    name: 'phase-intern',
    order: STAGE_ORDER.phase,
    kinds: ['tool.call', 'memory.write'],
    evaluate(ctx) {
      const agent = ctx.agent;
      if (!agent || agent.phase !== 'intern') return undefined;
      if (ctx.event.kind === 'tool.call' && ctx.tool && ctx.tool.class !== 'read') {
        return deny(
          reason('phase', 3, 'ASI03', `${agent.id} is an Intern (read-only); ${ctx.tool.name} is a ${ctx.tool.class} tool`, {
            phase: agent.phase,
            tool: ctx.tool.name,
            class: ctx.tool.class,
          }),
          { who: [agent.owner], missing: 'promotion to Junior (warden phase promote) with evidence and a sign-off' },
        );
      }
      return undefined;
    },
  };
}
