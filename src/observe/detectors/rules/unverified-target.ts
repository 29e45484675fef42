import type { MatcherConfig } from '../../../config/sections/observe.js';
import type { Decision } from '../../../core/types.js';
import type { StageContext } from '../../../pipeline/stage.js';
import { BoundedMap } from '../../bounded-map.js';
import { compileMatcher, evidenceOf, type DetectorRule, type Emit, type RuleLimits } from '../rule.js';
import { addTokens, collectValues, looksLikeIdentifier, normaliseValue, valueAt } from '../values.js';

/** Options of an unverified-target rule. */
export interface UnverifiedTargetOptions {
  id: string;
  match?: MatcherConfig | undefined;
  identifiers?: readonly string[] | undefined;
  trustUserInput: boolean;
  maxValuesPerSession: number;
}

interface SessionValues {
  values: Set<string>;
  lookups: number;
  /** Adds a value, evicting the oldest past the cap; made once per session. */
  add: (v: string) => void;
}

const MAX_ARGS_CHECKED = 16;

/**
 * A consequential call whose identifier values never came back from a read call in the session (the
 * deployment with zero lookups). Per session it remembers the values read tools returned (and, optionally,
 * what the user wrote), bounded; a write or irreversible call is checked with a set lookup per identifier.
 */
export function unverifiedTargetRule(o: UnverifiedTargetOptions, limits: RuleLimits): DetectorRule {
  const consequential = compileMatcher(o.match ?? { classes: ['write', 'irreversible'] }, ['tool.call']);
  const sessions = new BoundedMap<string, SessionValues>(limits.maxKeys);
  const kinds = [...new Set([...consequential.kinds, 'tool.result' as const, 'ingest' as const])];

  function stateOf(session: string): SessionValues {
    let s = sessions.get(session);
    if (s === undefined) {
      const values = new Set<string>();
      s = {
        values,
        lookups: 0,
        add: (v) => {
          if (values.has(v)) return;
          if (values.size >= o.maxValuesPerSession) {
            const oldest = values.values().next();
            if (!oldest.done) values.delete(oldest.value);
          }
          values.add(v);
        },
      };
      sessions.set(session, s);
    }
    return s;
  }

  return {
    id: o.id,
    kinds,
    observe(ctx: StageContext, decision: Decision, emit: Emit) {
      const e = ctx.event;
      if (e.kind === 'tool.result') {
        if (decision.verdict !== 'allow' || e.isError === true || ctx.tool?.class !== 'read') return;
        const s = stateOf(e.actor.session);
        s.lookups++;
        collectValues(e.result, s.add, 2_000, Math.min(2_000, o.maxValuesPerSession));
        // The arguments of a lookup that succeeded name things that exist too (get_repo {id} returned it).
        collectValues(e.call.args, s.add, 64, 64);
        return;
      }
      if (e.kind === 'ingest') {
        if (!o.trustUserInput || decision.verdict !== 'allow') return;
        const tier = decision.tier ?? ctx.policy.sourceTier(e.content.source);
        if (tier !== 1) return;
        addTokens(e.content.text, stateOf(e.actor.session).add, 512);
        return;
      }
      if (e.kind !== 'tool.call' || !consequential.test(ctx)) return;
      const names = o.identifiers ?? ctx.tool?.identifiers;
      const s = sessions.get(e.actor.session);
      const known = s?.values;
      // Nothing is allocated unless a value is unverified (rare in healthy traffic).
      let unverified: { name: string; value: string }[] | undefined;
      if (names) {
        for (const name of names) {
          const v = normaliseValue(valueAt(e.call.args, name));
          if (v !== undefined && known?.has(v) !== true) (unverified ??= []).push({ name, value: v });
        }
      } else {
        let seen = 0;
        const args = e.call.args;
        for (const name in args) {
          if (!Object.prototype.hasOwnProperty.call(args, name)) continue;
          const raw = args[name];
          if (!looksLikeIdentifier(raw) || ++seen > MAX_ARGS_CHECKED) continue;
          const v = normaliseValue(raw);
          if (v !== undefined && known?.has(v) !== true) (unverified ??= []).push({ name, value: v });
        }
        // A secret (password, token) is not a target, and must not be quoted in an alert.
        if (unverified && limits.redactArg) {
          const redact = limits.redactArg;
          unverified = unverified.filter((u) => redact(u.name, u.value) === u.value);
        }
      }
      if (!unverified || unverified.length === 0) return;
      const found = unverified;
      const lookups = s?.lookups ?? 0;
      // One alert per session and tool per cooldown: the hold it places covers the calls after it.
      emit(e.actor.session + '\u0000' + e.call.tool, ctx.now, () => {
        const shown = (u: { name: string; value: string }) =>
          limits.redactArg ? limits.redactArg(u.name, u.value) : u.value;
        const list = found.map((u) => `${u.name}=${JSON.stringify(shown(u))}`).join(', ');
        return {
          agent: e.actor.agent,
          session: e.actor.session,
          message: `${e.actor.agent} called ${e.call.tool} (${ctx.tool?.class ?? 'unknown'}) with ${list}, which no lookup in this session returned (${lookups} lookup${lookups === 1 ? '' : 's'} so far)`,
          evidence: {
            events: [evidenceOf(ctx, decision)],
            tool: e.call.tool,
            unverified: found.map((u) => u.name),
            lookups,
          },
        };
      });
    },
    size() {
      let events = 0;
      for (const [, s] of sessions) events += s.values.size;
      return { keys: sessions.size, events };
    },
  };
}
