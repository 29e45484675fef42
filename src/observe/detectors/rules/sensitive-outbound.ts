import type { Decision, Tier } from '../../../core/types.js';
import type { StageContext } from '../../../pipeline/stage.js';
import type { EvidenceEvent } from '../../alerts/alert.js';
import { BoundedMap } from '../../bounded-map.js';
import { evidenceOf, type DetectorRule, type Emit, type RuleLimits } from '../rule.js';

/** Options of a sensitive-outbound rule. */
export interface SensitiveOutboundOptions {
  id: string;
  sensitiveTools?: readonly string[] | undefined;
  sensitiveSources?: readonly string[] | undefined;
  tiers: readonly Tier[];
  outboundTools?: readonly string[] | undefined;
  windowSeconds: number;
}

/** The last sensitive read of a session, updated in place (no allocation per read). */
interface LastSensitive {
  ts: number;
  eventId: string;
  kind: string;
  session: string;
  /** Tool or source name. */
  what: string;
  tier: Tier;
  isTool: boolean;
}

/**
 * Data read from a sensitive source (a tool or source marked sensitive, or private tier-2 content), then an
 * outbound call in the same session within the window: the exfiltration shape. O(1) per event: one slot per
 * session holding the last sensitive read.
 */
export function sensitiveOutboundRule(o: SensitiveOutboundOptions, limits: RuleLimits): DetectorRule {
  const windowMs = o.windowSeconds * 1000;
  const sensitiveTools = new Set(o.sensitiveTools ?? []);
  const sensitiveSources = new Set(o.sensitiveSources ?? []);
  const outboundTools = new Set(o.outboundTools ?? []);
  const tiers = new Set<number>(o.tiers);
  const last = new BoundedMap<string, LastSensitive>(limits.maxKeys);

  function remember(ctx: StageContext, what: string, tier: Tier, isTool: boolean): void {
    const session = ctx.event.actor.session;
    const cur = last.get(session);
    if (cur) {
      cur.ts = ctx.now;
      cur.eventId = ctx.eventId;
      cur.kind = ctx.event.kind;
      cur.what = what;
      cur.tier = tier;
      cur.isTool = isTool;
    } else {
      last.set(session, {
        ts: ctx.now,
        eventId: ctx.eventId,
        kind: ctx.event.kind,
        session,
        what,
        tier,
        isTool,
      });
    }
  }

  return {
    id: o.id,
    kinds: ['tool.result', 'ingest', 'tool.call'],
    observe(ctx: StageContext, decision: Decision, emit: Emit) {
      const e = ctx.event;
      if (e.kind === 'tool.result') {
        if (decision.verdict !== 'allow' || e.isError === true) return;
        const t = ctx.tool;
        const tier = decision.tier ?? ctx.policy.toolResultTier(t);
        // A tool's own `sensitive` flag overrides the tier; the rule's list overrides both.
        const sensitive = sensitiveTools.has(e.call.tool) || (t?.sensitive ?? tiers.has(tier));
        if (sensitive) remember(ctx, e.call.tool, tier, true);
        return;
      }
      if (e.kind === 'ingest') {
        if (decision.verdict !== 'allow') return;
        const tier = decision.tier ?? ctx.policy.sourceTier(e.content.source);
        if (sensitiveSources.has(e.content.source) || tiers.has(tier))
          remember(ctx, e.content.source, tier, false);
        return;
      }
      if (e.kind !== 'tool.call') return;
      if (!(ctx.tool?.outbound === true || outboundTools.has(e.call.tool))) return;
      const prior = last.peek(e.actor.session);
      if (!prior || ctx.now - prior.ts > windowMs) return;
      // `build` runs synchronously inside `emit`, before `prior` can change.
      const p = prior;
      emit(`${e.actor.session}\u0000${e.call.tool}`, ctx.now, () => {
        const secs = Math.max(0, Math.round((ctx.now - p.ts) / 1000));
        const source = p.isTool
          ? `${p.what} result (tier ${p.tier})`
          : `content from ${p.what} (tier ${p.tier})`;
        const first: EvidenceEvent = {
          eventId: p.eventId,
          ts: p.ts,
          kind: p.kind,
          session: p.session,
          ...(p.isTool ? { tool: p.what } : {}),
        };
        return {
          agent: e.actor.agent,
          session: e.actor.session,
          message: `${e.actor.agent} called outbound tool ${e.call.tool} ${secs} s after reading ${source} in the same session`,
          evidence: { events: [first, evidenceOf(ctx, decision)], source, outbound: e.call.tool },
        };
      });
    },
    size() {
      return { keys: last.size, events: last.size };
    },
  };
}
