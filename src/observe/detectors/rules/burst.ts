import type { MatcherConfig } from '../../../config/sections/observe.js';
import type { Decision } from '../../../core/types.js';
import type { StageContext } from '../../../pipeline/stage.js';
import { BoundedMap } from '../../bounded-map.js';
import {
  compileMatcher,
  EventRing,
  toolNameOf,
  type DetectorRule,
  type Emit,
  type RuleLimits,
} from '../rule.js';

/** Options of a burst rule (`type: burst`). */
export interface BurstOptions {
  id: string;
  match?: MatcherConfig | undefined;
  per: 'agent' | 'session' | 'user';
  groupBy: 'tool' | 'class' | 'none';
  max: number;
  windowSeconds: number;
}

/** Tools (or classes) tracked per key; a flood of invented tool names evicts the oldest. */
const MAX_GROUPS = 256;

/**
 * More than `max` matching events for one key inside the window: 88 comments in 102 seconds. Each key keeps
 * a ring of its last `max + 1` event times, so the check is one comparison: the oldest of the last `max + 1`
 * events is inside the window.
 */
export function burstRule(o: BurstOptions, limits: RuleLimits): DetectorRule {
  const { kinds, test } = compileMatcher(o.match, ['tool.call']);
  const windowMs = o.windowSeconds * 1000;
  const size = Math.min(o.max + 1, limits.maxEvents);
  // Per key, then per group: two lookups instead of building a combined key string per event.
  const rings = new BoundedMap<string, Map<string, EventRing>>(limits.maxKeys);
  return {
    id: o.id,
    kinds,
    observe(ctx: StageContext, _decision: Decision, emit: Emit) {
      if (!test(ctx)) return;
      const actor = ctx.event.actor;
      const who =
        o.per === 'agent'
          ? actor.agent
          : o.per === 'session'
            ? actor.session
            : (actor.user ?? `agent:${actor.agent}`);
      const tool = toolNameOf(ctx);
      const group =
        o.groupBy === 'tool'
          ? (tool ?? ctx.event.kind)
          : o.groupBy === 'class'
            ? (ctx.tool?.class ?? ctx.event.kind)
            : '*';
      let groups = rings.get(who);
      if (groups === undefined) {
        groups = new Map();
        rings.set(who, groups);
      }
      let ring = groups.get(group);
      if (ring === undefined) {
        if (groups.size >= MAX_GROUPS) {
          const oldest = groups.keys().next();
          if (!oldest.done) groups.delete(oldest.value);
        }
        ring = new EventRing(size);
        groups.set(group, ring);
      }
      ring.push(ctx.now, ctx.eventId, actor.session);
      if (ring.count < size) return;
      const first = ring.oldest();
      if (ctx.now - first > windowMs) return;
      const r = ring;
      emit(who + '\u0000' + group, ctx.now, () => {
        const events = r.since(ctx.now - windowMs, ctx.event.kind, tool);
        const spanS = Math.max(1, Math.round((ctx.now - first) / 1000));
        const what =
          o.groupBy === 'none' ? 'matching events' : `${group} ${o.groupBy === 'tool' ? 'calls' : 'events'}`;
        return {
          agent: actor.agent,
          ...(o.per === 'session' ? { session: actor.session } : {}),
          message: `${o.per} ${who} made ${events.length} ${what} in ${spanS} s (limit ${o.max} per ${o.windowSeconds} s)`,
          evidence: {
            events,
            count: events.length,
            limit: o.max,
            windowSeconds: o.windowSeconds,
            per: o.per,
            key: who,
            group,
          },
        };
      });
    },
    size() {
      let events = 0;
      for (const [, groups] of rings) for (const r of groups.values()) events += r.count;
      return { keys: rings.size, events };
    },
  };
}
