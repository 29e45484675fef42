/**
 * The gateway's pipeline stage: a call to a tool whose definition is blocked (changed since approval,
 * flagged as poisoned, unreviewed, not pinnable) is denied with a supply-chain reason (domain 5, ASI04).
 * The stage reads the statuses the gateway connection keeps in the session's `gateway` slot; sessions
 * that are not gateway sessions have no slot and the stage says nothing.
 */
import { deny } from '../core/decision.js';
import type { Extension } from '../pipeline/runtime.js';
import type { SessionState } from '../pipeline/session-state.js';
import { STAGE_ORDER, type Stage } from '../pipeline/stage.js';
import { isBlocked, statusReasons, type DefinitionStatus } from './definitions.js';

/** Key of the session slot a gateway connection fills. */
export const GATEWAY_SLOT = 'gateway';

/** What a gateway connection exposes to the stage through the session slot. */
export interface GatewaySlot {
  /** Status of a tool's definition, or undefined when the gateway does not know the tool. */
  statusOf(server: string | undefined, tool: string): DefinitionStatus | undefined;
}

/** Installs a connection's view of tool definitions into a session. */
export function attachGatewaySlot(state: SessionState, slot: GatewaySlot): void {
  const current = state.slot<{ ref: GatewaySlot }>(GATEWAY_SLOT, () => ({ ref: slot }));
  current.ref = slot;
}

/** The stage; it runs right after identity (an unknown tool is the registry's to deny). */
export function toolDefinitionStage(): Stage {
  return {
    name: 'gateway-tool-definition',
    order: STAGE_ORDER.identity + 50,
    kinds: ['tool.call'],
    evaluate(ctx) {
      const holder = ctx.session.peek<{ ref: GatewaySlot }>(GATEWAY_SLOT);
      if (!holder || ctx.event.kind !== 'tool.call') return undefined;
      const { server, tool } = ctx.event.call;
      const status = holder.ref.statusOf(server, tool);
      if (!status || !isBlocked(status)) return undefined;
      const [first, ...rest] = statusReasons(server ?? '?', tool, status);
      if (!first) return undefined;
      const out = deny(first, {
        who: [ctx.agent?.owner ?? 'warden.yaml owners'],
        missing: `a review of the tool definition (\`warden gateway pins approve ${server ?? '?'}/${tool}\`)`,
      });
      out.reasons.push(...rest);
      return out;
    },
  };
}

/** The gateway module as a Warden extension (registered in `pipeline/default-extensions.ts`). */
export function extension(): Extension {
  return {
    name: 'gateway',
    setup: () => [toolDefinitionStage()],
  };
}
