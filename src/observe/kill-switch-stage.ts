import { halt, reason } from '../core/decision.js';
import { STAGE_ORDER, type Stage } from '../pipeline/stage.js';
import type { KillSwitches } from './kill-switch.js';

/** First stage: an engaged kill switch that covers the agent or session halts every event. */
export function killSwitchStage(switches: KillSwitches): Stage {
  return {
    name: 'kill-switch',
    order: STAGE_ORDER.killSwitch,
    evaluate(ctx) {
      const sw = switches.check(ctx.event.actor.agent, ctx.event.actor.session);
      if (!sw) return undefined;
      return halt(
        reason(
          'kill-switch',
          6,
          'ASI10',
          `kill switch engaged (${sw.scope}${sw.scope === 'global' ? '' : ` ${sw.target}`}): ${sw.reason}`,
          {
            scope: sw.scope,
            target: sw.target,
            by: sw.by,
            engagedAt: new Date(sw.engagedAt).toISOString(),
          },
        ),
      );
    },
  };
}
