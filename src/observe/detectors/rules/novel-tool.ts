import type { Decision } from '../../../core/types.js';
import type { StageContext } from '../../../pipeline/stage.js';
import { BoundedMap } from '../../bounded-map.js';
import { evidenceOf, type DetectorRule, type Emit, type RuleLimits } from '../rule.js';

/** Options of a novel-tool rule. */
export interface NovelToolOptions {
  id: string;
  learnEvents: number;
  learnSeconds: number;
  maxToolsPerAgent: number;
}

interface AgentTools {
  firstSeen: number;
  calls: number;
  tools: Set<string>;
}

/** A novel-tool rule can be taught what an agent already used (from the inventory) at start. */
export interface NovelToolRule extends DetectorRule {
  seed(agent: string, tools: readonly string[], calls: number, firstSeen: number): void;
}

/**
 * An agent calling a tool it has never used, once it has been watched for `learnEvents` calls (and
 * `learnSeconds`). One set lookup per call; the set is bounded per agent and the agents by the rule's limit.
 */
export function novelToolRule(o: NovelToolOptions, limits: RuleLimits): NovelToolRule {
  const agents = new BoundedMap<string, AgentTools>(limits.maxKeys);
  const remember = (a: AgentTools, tool: string) => {
    if (a.tools.size >= o.maxToolsPerAgent) {
      const oldest = a.tools.values().next();
      if (!oldest.done) a.tools.delete(oldest.value);
    }
    a.tools.add(tool);
  };
  const agentOf = (agent: string, now: number): AgentTools => {
    let a = agents.get(agent);
    if (a === undefined) {
      a = { firstSeen: now, calls: 0, tools: new Set<string>() };
      agents.set(agent, a);
    }
    return a;
  };
  return {
    id: o.id,
    kinds: ['tool.call'],
    seed(agent, tools, calls, firstSeen) {
      const a = agentOf(agent, firstSeen);
      a.firstSeen = Math.min(a.firstSeen, firstSeen);
      a.calls = Math.max(a.calls, calls);
      for (const t of tools) remember(a, t);
    },
    observe(ctx: StageContext, decision: Decision, emit: Emit) {
      const e = ctx.event;
      if (e.kind !== 'tool.call') return;
      const a = agentOf(e.actor.agent, ctx.now);
      a.calls++;
      const tool = e.call.tool;
      if (a.tools.has(tool)) return;
      const learned = a.calls > o.learnEvents && ctx.now - a.firstSeen >= o.learnSeconds * 1000;
      remember(a, tool);
      if (!learned) return;
      emit(`${e.actor.agent}\u0000${tool}`, ctx.now, () => ({
        agent: e.actor.agent,
        session: e.actor.session,
        message: `${e.actor.agent} called ${tool} for the first time after ${a.calls - 1} calls to ${a.tools.size - 1} other tool(s)`,
        evidence: {
          events: [evidenceOf(ctx, decision)],
          tool,
          knownTools: [...a.tools].filter((t) => t !== tool).slice(0, 50),
        },
      }));
    },
    size() {
      let events = 0;
      for (const [, a] of agents) events += a.tools.size;
      return { keys: agents.size, events };
    },
  };
}
