import type { Policy } from '../config/policy.js';
import type { Tier, WardenEvent } from '../core/types.js';
import type { Origin, ProvenanceClass, SourceRef } from './provenance/index.js';
import { classOfTier, type CompiledTool, type TrustSettings } from './settings.js';

/** The trust label of one piece of content entering the context: its tier and how its values count. */
export interface Label {
  tier: Tier;
  /**
   * What the content does to the session's taint. The same as `tier`, except for results of authoritative tools
   * (they are what the verification gate trusts, so reading them does not restrict what may follow) and of echo
   * tools (an acknowledgement of the call adds nothing the context did not hold).
   */
  taint: Tier;
  /** Class of its values (an authoritative tool's results vouch for values; other content by tier). */
  cls: ProvenanceClass;
  private: boolean;
  fields: Origin['fields'];
  source: Omit<SourceRef, 'eventId'>;
}

function lower(a: Tier, b: Tier | undefined): Tier {
  return b === undefined ? a : (Math.max(a, b) as Tier);
}

/** Tier of ingested content: the source's tier, or the content's own `tier` when that is lower trust. */
export function ingestTier(policy: Policy, source: string, tier: Tier | undefined): Tier {
  return lower(policy.sourceTier(source), tier);
}

/**
 * Tier of a tool result: the tool's (declared, else 2 for authoritative tools, else 3), tier 3 when the tool has
 * untrusted fields, lowered by the caller's `tier` (the gateway passes 3 for MCP tools with `openWorldHint`).
 */
export function resultTier(tool: CompiledTool | undefined, tier: Tier | undefined): Tier {
  if (!tool) return 3;
  return lower(tool.hasUntrustedFields ? 3 : tool.resultTier, tier);
}

/**
 * The label of content an event brings into the context (ingest, tool.result, message), or undefined for events
 * that bring none. Values of a result the caller labelled lower than the tool's tier lose the tool's authority; values
 * of an error result count as tier 3.
 */
export function labelOf(
  event: WardenEvent,
  tool: CompiledTool | undefined,
  settings: TrustSettings,
  policy: Policy,
): Label | undefined {
  switch (event.kind) {
    case 'ingest': {
      const tier = ingestTier(policy, event.content.source, event.content.tier);
      const source: Label['source'] = { kind: 'ingest', name: event.content.source, tier };
      if (event.content.ref !== undefined) source.ref = event.content.ref;
      return {
        tier,
        taint: tier,
        cls: classOfTier(tier),
        private: tier <= 2 || settings.privateSources.has(event.content.source),
        fields: undefined,
        source,
      };
    }
    case 'tool.result': {
      const tier = resultTier(tool, event.tier);
      const demoted = tool === undefined || (event.tier !== undefined && event.tier > tool.resultTier);
      const authoritative = !demoted && tool.config.authoritative && !tool.hasUntrustedFields;
      // An error message is not a record of the system: it vouches for nothing.
      const failed = event.isError === true;
      const source: Label['source'] = { kind: 'result', name: event.call.tool, tier };
      if (event.call.server !== undefined) source.ref = event.call.server;
      // An acknowledgement repeats what the agent sent: it adds nothing to the context's taint and vouches for nothing.
      const echo = !demoted && tool.echo;
      return {
        tier,
        taint: authoritative || echo ? 1 : tier,
        cls: failed || echo ? 'tier3' : demoted ? classOfTier(tier) : tool.resultClass,
        private: tool?.private === true || tier <= 2,
        fields: demoted || failed ? undefined : tool.fields,
        source,
      };
    }
    case 'message': {
      const tier = settings.section.taint.messageTier;
      return {
        tier,
        taint: tier,
        cls: classOfTier(tier),
        private: tier <= 2,
        fields: undefined,
        source: { kind: 'message', name: event.message.from, tier },
      };
    }
    default:
      return undefined;
  }
}
