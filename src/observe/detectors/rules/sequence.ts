import type { MatcherConfig } from '../../../config/sections/observe.js';
import type { Decision } from '../../../core/types.js';
import type { StageContext } from '../../../pipeline/stage.js';
import type { EvidenceEvent } from '../../alerts/alert.js';
import { BoundedMap } from '../../bounded-map.js';
import { compileMatcher, evidenceOf, type DetectorRule, type Emit, type RuleLimits } from '../rule.js';

/** Options of a sequence rule. */
export interface SequenceOptions {
  id: string;
  first: MatcherConfig;
  then: MatcherConfig;
  per: 'session' | 'agent';
  windowSeconds: number;
}

/** `first` followed by `then` within the window, per session or per agent. One slot per key. */
export function sequenceRule(o: SequenceOptions, limits: RuleLimits): DetectorRule {
  const first = compileMatcher(o.first);
  const then = compileMatcher(o.then);
  const windowMs = o.windowSeconds * 1000;
  const last = new BoundedMap<string, EvidenceEvent>(limits.maxKeys);
  return {
    id: o.id,
    kinds: [...new Set([...first.kinds, ...then.kinds])],
    observe(ctx: StageContext, decision: Decision, emit: Emit) {
      const actor = ctx.event.actor;
      const key = o.per === 'session' ? actor.session : actor.agent;
      if (then.test(ctx)) {
        const prior = last.peek(key);
        if (prior && ctx.now - prior.ts <= windowMs && prior.eventId !== ctx.eventId) {
          emit(key, ctx.now, () => {
            const ev = evidenceOf(ctx, decision);
            return {
              agent: actor.agent,
              ...(o.per === 'session' ? { session: actor.session } : {}),
              message: `${actor.agent}: ${prior.tool ?? prior.kind} followed by ${ev.tool ?? ctx.event.kind} within ${o.windowSeconds} s`,
              evidence: { events: [prior, ev] },
            };
          });
        }
      }
      if (first.test(ctx)) last.set(key, evidenceOf(ctx, decision));
    },
    size() {
      return { keys: last.size, events: last.size };
    },
  };
}
