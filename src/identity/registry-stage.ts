import { deny, reason } from '../core/decision.js';
import { STAGE_ORDER, type Stage } from '../pipeline/stage.js';

/**
 * Identity stage: only configured agents act (an unknown agent is a shadow agent, ASI10), and only
 * configured tools are called (an unknown tool has no class, so nothing can be said about its effects).
 */
export function registryStage(): Stage {
  return {
    name: 'registry',
    order: STAGE_ORDER.identity,
    evaluate(ctx) {
      if (!ctx.agent) {
        return deny(
          reason(
            'shadow-agent',
            1,
            'ASI10',
            `agent ${JSON.stringify(ctx.event.actor.agent)} is not in warden.yaml`,
            {
              agent: ctx.event.actor.agent,
            },
          ),
          { who: ['warden.yaml owners'], missing: 'register the agent with an owner and a phase' },
        );
      }
      const kind = ctx.event.kind;
      if ((kind === 'tool.call' || kind === 'tool.result') && !ctx.tool) {
        return deny(
          reason(
            'unknown-tool',
            3,
            'ASI02',
            `tool ${JSON.stringify(ctx.event.call.tool)} is not declared in warden.yaml`,
            {
              tool: ctx.event.call.tool,
              server: ctx.event.call.server,
            },
          ),
          {
            who: [ctx.agent.owner],
            missing: 'declare the tool with its class (read, write or irreversible)',
          },
        );
      }
      return undefined;
    },
  };
}
