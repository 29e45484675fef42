import type { Policy } from '../config/policy.js';
import type { AgentConfig, Phase, ToolConfig } from '../config/schema.js';
import type { Cap, MaturitySection, PreApproved } from '../config/sections/maturity.js';
import { canonicalJson } from '../core/canonical.js';
import { deny, needApproval, reason, type StageOutcome } from '../core/decision.js';
import type { Decision, Escalation } from '../core/types.js';
import type { StageContext } from '../pipeline/stage.js';
import { ApprovalRules } from '../actions/approvals/rules.js';
import { nameMatcher } from '../actions/grants/glob.js';
import { WindowCounters, type WindowEntry } from '../actions/grants/rate-limit.js';
import { compileWhere, readPath, scalarText, type CompiledWhere } from '../actions/grants/schema-compile.js';
import { formatMs } from '../actions/grants/stage.js';
import { title } from './phases.js';

/**
 * The maturity phase as a run-time gate, compiled once from the config.
 *
 * "Changes anything" means a `write` or `irreversible` tool call, or a memory write.
 * - intern: changes are denied;
 * - junior: changes need approval;
 * - senior: changes in a pre-approved class run alone, others need approval;
 * - principal: changes run alone while every cap that covers them has room; beyond a cap they need
 *   approval. A Principal with no caps declared is treated like a Senior (autonomy needs explicit bounds).
 */

/** Default `maturity:` values when the section is absent. */
export const DEFAULT_MATURITY: MaturitySection = {
  promotion: {
    minDays: { intern: 14, junior: 14, senior: 30 },
    signoffRoles: [],
    requireSignedSignoff: false,
  },
  senior: { preApproved: [] },
  principal: { caps: [] },
  agents: {},
  demotion: { onCritical: 'previous' },
  refreshMs: 30_000,
};

interface CompiledClass {
  readonly label: string;
  readonly tools: ((n: string) => boolean)[] | undefined;
  readonly server: string | undefined;
  readonly where: CompiledWhere;
  readonly memory: ((ns: string) => boolean) | undefined;
}

/** A compiled cap. */
export interface CompiledCap {
  readonly label: string;
  readonly key: string;
  readonly tools: ((n: string) => boolean)[] | undefined;
  readonly classes: readonly string[];
  readonly where: CompiledWhere;
  readonly measure: 'count' | 'sum' | 'distinct';
  readonly path: string | undefined;
  readonly limit: number;
  readonly perMs: number;
  readonly source: Cap;
}

interface AgentRules {
  readonly preApproved: CompiledClass[];
  readonly caps: CompiledCap[];
}

/** Current use of one cap, for explanations. */
export interface CapUsage {
  cap: string;
  measure: 'count' | 'sum' | 'distinct';
  used: number;
  limit: number;
  per: string;
  /** What is counted, in words: `actions`, `amount (sum)`, `distinct repoId`. */
  unit: string;
}

function compileClass(p: PreApproved): CompiledClass {
  const tools =
    p.tool === undefined ? undefined : (Array.isArray(p.tool) ? p.tool : [p.tool]).map(nameMatcher);
  const where = compileWhere(p.where);
  const label =
    p.memory !== undefined
      ? `memory writes to ${p.memory}`
      : `${(Array.isArray(p.tool) ? p.tool : [p.tool]).join(', ')}${p.server ? ` on ${p.server}` : ''}${
          where.constraints.length > 0
            ? ` where ${where.constraints.map((c) => `${c.path} is ${c.describe}`).join(' and ')}`
            : ''
        }`;
  return {
    label,
    tools,
    server: p.server,
    where,
    memory: p.memory === undefined ? undefined : nameMatcher(p.memory),
  };
}

function compileCap(c: Cap, agent: string, label: string): CompiledCap {
  const measure = c.count !== undefined ? 'count' : c.sum !== undefined ? 'sum' : 'distinct';
  return {
    label,
    key: `cap\u0000${agent}\u0000${label}`,
    tools: c.tools?.map(nameMatcher),
    classes: c.classes ?? ['write', 'irreversible'],
    where: compileWhere(c.where),
    measure,
    path: c.sum ?? c.distinct,
    limit: c.count ?? c.max ?? 0,
    perMs: c.per,
    source: c,
  };
}

function toolMatches(list: ((n: string) => boolean)[] | undefined, tool: ToolConfig): boolean {
  if (!list) return true;
  const full = tool.server ? `${tool.server}/${tool.name}` : tool.name;
  for (const m of list) if (m(tool.name) || m(full)) return true;
  return false;
}

/** The compiled phase gate with its cap windows. */
export class PhaseGate {
  readonly section: MaturitySection;
  readonly counters = new WindowCounters();
  private readonly byAgent = new Map<string, AgentRules>();
  /** The compiled `approvals:` section (who may approve, their keys); promotions share it. */
  readonly approvals: ApprovalRules;
  private readonly reserved = new Map<string, { key: string; perMs: number; entry: WindowEntry }[]>();
  /** Called when a cap entry becomes final, to share it with replicas. */
  onCommit:
    ((key: string, perMs: number, ts: number, weight: number, tag: string | undefined) => void) | undefined;

  constructor(policy: Policy) {
    this.section = policy.config.maturity ?? DEFAULT_MATURITY;
    this.approvals = new ApprovalRules(policy);
    for (const agent of policy.config.agents) {
      const extra = this.section.agents[agent.id];
      const pre = [
        ...this.section.senior.preApproved.map((p) => compileClass(p)),
        ...(extra?.preApproved ?? []).map((p) => compileClass(p)),
      ];
      const caps = [
        ...this.section.principal.caps.map((c, i) =>
          compileCap(c, agent.id, c.name || `maturity.principal.caps[${i}]`),
        ),
        ...(extra?.caps ?? []).map((c, i) =>
          compileCap(c, agent.id, c.name || `maturity.agents.${agent.id}.caps[${i}]`),
        ),
      ];
      this.byAgent.set(agent.id, { preApproved: pre, caps });
    }
  }

  /** Pre-approved classes of an agent (labels), for explanations. */
  preApprovedOf(agentId: string): readonly { label: string }[] {
    return this.byAgent.get(agentId)?.preApproved ?? [];
  }

  /** Caps of an agent, for explanations. */
  capsOf(agentId: string): readonly CompiledCap[] {
    return this.byAgent.get(agentId)?.caps ?? [];
  }

  /** Current use of each cap of an agent (this process's view, including replicas' shared counts). */
  usage(agentId: string, now: number): CapUsage[] {
    return this.capsOf(agentId).map((c) => {
      const u = this.counters.usage(c.key, c.perMs, now);
      return {
        cap: c.label,
        measure: c.measure,
        used: c.measure === 'count' ? u.count : c.measure === 'sum' ? u.sum : u.distinct,
        limit: c.limit,
        per: formatMs(c.perMs),
        unit:
          c.measure === 'count'
            ? 'actions'
            : c.measure === 'sum'
              ? `${c.path ?? ''} (sum)`
              : `distinct ${c.path ?? ''}`,
      };
    });
  }

  /** Decides an event for an agent at a phase. */
  evaluate(ctx: StageContext, phase: Phase): StageOutcome | undefined {
    const agent = ctx.agent;
    if (!agent) return undefined;
    const e = ctx.event;
    let what: string;
    if (e.kind === 'tool.call') {
      const tool = ctx.tool;
      if (!tool || tool.class === 'read') return undefined;
      what = `${tool.name} (${tool.class === 'irreversible' ? 'an' : 'a'} ${tool.class} tool)`;
    } else if (e.kind === 'memory.write') {
      what = `a memory write to ${e.memory.namespace}`;
    } else {
      return undefined;
    }
    const evidence: Record<string, unknown> = {
      phase,
      ...(ctx.tool ? { tool: ctx.tool.name, class: ctx.tool.class } : {}),
    };
    switch (phase) {
      case 'intern':
        return deny(
          reason(
            'phase',
            3,
            'ASI02',
            `${agent.id} is an Intern (read-only); ${what} changes something`,
            evidence,
          ),
          {
            who: [agent.owner],
            missing: 'promotion to Junior (`warden phase promote`) with evidence and a sign-off',
          },
        );
      case 'junior':
        return needApproval(
          reason(
            'phase',
            3,
            'ASI02',
            `${agent.id} is a Junior (supervised): ${what} needs a person's approval`,
            evidence,
          ),
          this.escalation(ctx, agent, 'approval of this action (Junior agents act only with approval)'),
        );
      case 'senior':
        return this.senior(ctx, agent, what, evidence);
      case 'principal':
        return this.principal(ctx, agent, what, evidence);
    }
  }

  /** Settles cap reservations once the decision is known. */
  observe(ctx: StageContext, decision: Decision, phase: Phase): void {
    const held = this.reserved.get(ctx.eventId);
    if (held) {
      this.reserved.delete(ctx.eventId);
      for (const h of held) {
        if (decision.verdict === 'allow')
          this.onCommit?.(h.key, h.perMs, h.entry.ts, h.entry.weight, h.entry.tag);
        else this.counters.release(h.key, h.entry);
      }
      return;
    }
    // An over-cap action a person approved still happened: it counts.
    if (
      decision.verdict === 'allow' &&
      phase === 'principal' &&
      ctx.event.kind === 'tool.call' &&
      ctx.agent &&
      ctx.tool &&
      ctx.tool.class !== 'read'
    ) {
      for (const c of this.matchingCaps(ctx.agent.id, ctx.tool, ctx.event.call.args)) {
        const m = this.measure(c, ctx.event.call.args);
        if (m === undefined) continue;
        const entry = this.counters.add(c.key, c.perMs, ctx.now, m.weight, m.tag);
        this.onCommit?.(c.key, c.perMs, entry.ts, entry.weight, entry.tag);
      }
    }
  }

  /** Counts past actions (at start, from the ledger) without reservations. */
  seed(agentId: string, tool: ToolConfig, args: Record<string, unknown>, ts: number): void {
    for (const c of this.matchingCaps(agentId, tool, args)) {
      const m = this.measure(c, args);
      if (m) this.counters.add(c.key, c.perMs, ts, m.weight, m.tag);
    }
  }

  /** Longest cap window of any agent (how far back seeding reads). */
  longestWindowMs(): number {
    let max = 0;
    for (const r of this.byAgent.values()) for (const c of r.caps) max = Math.max(max, c.perMs);
    return max;
  }

  private escalation(ctx: StageContext, agent: AgentConfig, missing: string): Escalation {
    const call = ctx.event.kind === 'tool.call' ? ctx.event.call : undefined;
    const needs = this.approvals.needs(agent.id, call?.tool ?? ctx.event.kind, ctx.tool, call?.args ?? {});
    return { who: this.approvals.whoCanApprove(needs.roles, agent.owner), missing };
  }

  private preApproved(ctx: StageContext, agent: AgentConfig): CompiledClass | undefined {
    const rules = this.byAgent.get(agent.id);
    if (!rules) return undefined;
    const e = ctx.event;
    for (const p of rules.preApproved) {
      if (e.kind === 'memory.write') {
        if (p.memory?.(e.memory.namespace)) return p;
        continue;
      }
      if (e.kind !== 'tool.call' || !ctx.tool || !p.tools) continue;
      if (!toolMatches(p.tools, ctx.tool)) continue;
      if (p.server !== undefined && p.server !== (e.call.server ?? ctx.tool.server)) continue;
      // Pre-approval widens autonomy, so doubt about an argument counts as "not pre-approved".
      if (!p.where.test(e.call.args, 'allow')) continue;
      return p;
    }
    return undefined;
  }

  private senior(
    ctx: StageContext,
    agent: AgentConfig,
    what: string,
    evidence: Record<string, unknown>,
  ): StageOutcome | undefined {
    if (this.preApproved(ctx, agent)) return undefined;
    return needApproval(
      reason(
        'phase',
        3,
        'ASI02',
        `${agent.id} is a Senior: ${what} is not in a pre-approved action class, so a person must approve it`,
        evidence,
      ),
      this.escalation(
        ctx,
        agent,
        'approval of this action, or a pre-approved class covering it (maturity.senior.preApproved)',
      ),
    );
  }

  private matchingCaps(agentId: string, tool: ToolConfig, args: Record<string, unknown>): CompiledCap[] {
    const rules = this.byAgent.get(agentId);
    if (!rules) return [];
    const out: CompiledCap[] = [];
    for (const c of rules.caps)
      if (c.classes.includes(tool.class) && toolMatches(c.tools, tool) && c.where.test(args, 'deny'))
        out.push(c);
    return out;
  }

  private measure(
    c: CompiledCap,
    args: Record<string, unknown>,
  ): { weight: number; tag: string | undefined } | undefined {
    if (c.measure === 'count') return { weight: 1, tag: undefined };
    const v = readPath(args, c.path as string, (c.path as string).split('.'));
    if (c.measure === 'sum') {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? { weight: Math.abs(n), tag: undefined } : undefined;
    }
    if (v === undefined) return undefined;
    let tag = scalarText(v);
    if (tag === undefined) {
      try {
        tag = canonicalJson(v);
      } catch {
        return undefined;
      }
    }
    return { weight: 0, tag };
  }

  private principal(
    ctx: StageContext,
    agent: AgentConfig,
    what: string,
    evidence: Record<string, unknown>,
  ): StageOutcome | undefined {
    const rules = this.byAgent.get(agent.id);
    if (!rules || rules.caps.length === 0) {
      if (this.preApproved(ctx, agent)) return undefined;
      return needApproval(
        reason(
          'phase',
          3,
          'ASI02',
          `${agent.id} is a Principal without caps (maturity.principal.caps): ${what} needs approval until its bounds are declared`,
          evidence,
        ),
        this.escalation(ctx, agent, 'approval of this action, or caps for this Principal'),
      );
    }
    const e = ctx.event;
    if (e.kind !== 'tool.call' || !ctx.tool) return undefined;
    const caps = this.matchingCaps(agent.id, ctx.tool, e.call.args);
    if (caps.length === 0) return undefined;
    const held: { key: string; perMs: number; entry: WindowEntry }[] = [];
    const release = () => {
      for (const h of held) this.counters.release(h.key, h.entry);
    };
    for (const c of caps) {
      const m = this.measure(c, e.call.args);
      if (m === undefined) {
        release();
        return needApproval(
          reason(
            'cap',
            3,
            'ASI02',
            `cap ${c.label} measures ${c.path ?? '?'}, which this ${what} call does not give as a usable value, so a person must approve it`,
            {
              ...evidence,
              cap: c.label,
            },
          ),
          this.escalation(ctx, agent, `approval of this action (cap ${c.label} cannot measure it)`),
        );
      }
      const u = this.counters.usage(c.key, c.perMs, ctx.now);
      let used: number;
      let after: number;
      if (c.measure === 'count') {
        used = u.count;
        after = used + 1;
      } else if (c.measure === 'sum') {
        used = u.sum;
        after = used + m.weight;
      } else {
        used = u.distinct;
        after = this.counters.hasTag(c.key, c.perMs, ctx.now, m.tag as string) ? used : used + 1;
      }
      if (after > c.limit) {
        release();
        const unit =
          c.measure === 'count' ? 'actions' : c.measure === 'sum' ? `in ${c.path}` : `distinct ${c.path}`;
        return needApproval(
          reason(
            'cap',
            3,
            'ASI02',
            `${agent.id} (${title('principal')}) would exceed cap ${c.label}: ${after} ${unit} in ${formatMs(c.perMs)}, limit ${c.limit}`,
            {
              ...evidence,
              cap: c.label,
              used,
              limit: c.limit,
              per: formatMs(c.perMs),
            },
          ),
          this.escalation(ctx, agent, `approval beyond cap ${c.label} (${c.limit} per ${formatMs(c.perMs)})`),
        );
      }
      held.push({
        key: c.key,
        perMs: c.perMs,
        entry: this.counters.add(c.key, c.perMs, ctx.now, m.weight, m.tag),
      });
    }
    if (this.reserved.size > 100_000) this.reserved.clear();
    this.reserved.set(ctx.eventId, held);
    return undefined;
  }
}
