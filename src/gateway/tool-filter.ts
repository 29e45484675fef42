/**
 * Which tools the model is shown. A tool is hidden when a call to it would be denied whatever its
 * arguments, so the model is not tempted by tools it cannot use and does not learn what else exists:
 *
 * - the agent is not configured (every call is denied);
 * - the tool is not declared in `tools:` and `gateway.unknownTools` is `hide` (the default);
 * - the agent is an Intern and the tool is `write` or `irreversible`;
 * - the agent declares grants and none of its allow grants names this tool (on this server);
 * - the definition is blocked: changed since approval, flagged as poisoned (with `gateway.poisoned: hide`),
 *   unreviewed (with `gateway.pinning: review`) or not pinnable.
 *
 * Hiding is a courtesy, not the control: a call to a hidden tool still goes through the pipeline, which
 * denies it for the same reason.
 */
import type { Policy } from '../config/policy.js';
import type { Phase, ToolConfig } from '../config/schema.js';
import { isBlocked, type DefinitionStatus } from './definitions.js';

/** Why a tool is hidden, or undefined when it is shown. */
export type HiddenBecause = 'unknown-agent' | 'unknown-tool' | 'phase' | 'grants' | 'definition' | undefined;

/** What the filter needs to know about the agent and the options. */
export interface FilterContext {
  policy: Policy;
  agent: string;
  /** Effective phase (the maturity service's when present, else the config's). */
  phase: Phase | undefined;
  unknownTools: 'hide' | 'show';
  /**
   * Whether any allow grant of the agent could cover this tool on this server (arguments aside); undefined
   * when the agent declares no grants or no grants module runs.
   */
  granted?: (tool: ToolConfig, server: string) => boolean | undefined;
}

/** Decides whether one tool is listed. */
export function hiddenBecause(
  ctx: FilterContext,
  server: string,
  tool: string,
  status: DefinitionStatus | undefined,
): HiddenBecause {
  if (ctx.policy.agent(ctx.agent) === undefined) return 'unknown-agent';
  if (isBlocked(status)) return 'definition';
  const config: ToolConfig | undefined = ctx.policy.tool(tool, server);
  if (!config) return ctx.unknownTools === 'hide' ? 'unknown-tool' : undefined;
  if (ctx.phase === 'intern' && config.class !== 'read') return 'phase';
  if (ctx.granted?.(config, server) === false) return 'grants';
  return undefined;
}

/** The shape of the actions module's grant matcher that the filter reads (see `actions` service). */
interface GrantView {
  forAgent(agent: string):
    | {
        grants: readonly unknown[];
        byTool: ReadonlyMap<ToolConfig, { allow: readonly { server: string | undefined }[] }>;
      }
    | undefined;
}

/** A `granted` check over the actions module's compiled grants, or undefined when it does not run. */
export function grantCheck(actions: unknown, agent: string): FilterContext['granted'] {
  const matcher = (actions as { matcher?: Partial<GrantView> } | undefined)?.matcher;
  if (!matcher || typeof matcher.forAgent !== 'function') return undefined;
  const view = matcher as GrantView;
  return (tool, server) => {
    const ag = view.forAgent(agent);
    if (ag === undefined) return undefined;
    const group = ag.byTool.get(tool);
    if (group === undefined) return false;
    return group.allow.some((g) => g.server === undefined || g.server === server);
  };
}
