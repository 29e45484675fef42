import type { KeyObject } from 'node:crypto';
import type { Policy } from '../../config/policy.js';
import type { AgentConfig, ToolConfig } from '../../config/schema.js';
import type { ApprovalsSection } from '../../config/sections/actions.js';
import { needApproval, reason } from '../../core/decision.js';
import { ConfigError } from '../../core/errors.js';
import { parsePublicKey, publicKeyFingerprint } from '../../observe/messages/keys.js';
import { STAGE_ORDER, type Stage } from '../../pipeline/stage.js';
import { nameMatcher } from '../grants/glob.js';
import { compileWhere, type CompiledWhere } from '../grants/schema-compile.js';
import type { ApprovalPolicy, ApprovalRequest } from './digest.js';

/**
 * Approval rules: which calls always need a person (`require: true`), and what any approval needs
 * (roles, quorum, expiry). Every matching rule applies at once, so adding a rule can only make an
 * approval harder to get: the highest quorum, the shortest expiry, an approver eligible under each.
 */

/** Default `approvals:` values when the section is absent. */
export const DEFAULT_APPROVALS: ApprovalsSection = {
  expiresAfter: 3_600_000,
  approvers: [],
  selfApproval: 'forbid',
  rules: [],
  maxPendingPerAgent: 100,
  keyEnv: 'WARDEN_APPROVAL_KEY',
  sweepMs: 30_000,
  requireSignedVotes: false,
  signedVoteMaxAge: 300_000,
};

/** A compiled rule. */
export interface CompiledRule {
  readonly label: string;
  readonly tools: ((name: string) => boolean)[] | undefined;
  readonly agents: ((name: string) => boolean)[] | undefined;
  readonly classes: readonly string[] | undefined;
  readonly where: CompiledWhere;
  readonly require: boolean;
  readonly roles: readonly string[] | undefined;
  readonly quorum: number;
  readonly expiresMs: number | undefined;
}

/** What a call's approval needs. */
export interface ApprovalNeeds {
  matched: CompiledRule[];
  required: CompiledRule[];
  quorum: number;
  roles: string[][];
  expiresMs: number;
}

/** The `approvals:` section, compiled. */
export class ApprovalRules {
  readonly section: ApprovalsSection;
  readonly rules: readonly CompiledRule[];
  private readonly approvers: Map<string, Set<string>>;
  /** Declared approver keys, parsed once. */
  private readonly keys: Map<string, { key: KeyObject; fingerprint: string }>;
  /** Rules that can require approval for tool calls: skipped entirely when empty. */
  readonly anyRequired: boolean;

  constructor(policy: Policy) {
    this.section = policy.config.approvals ?? DEFAULT_APPROVALS;
    this.rules = this.section.rules.map((r, i) => ({
      label: r.name ?? `approvals.rules[${i}]`,
      tools: r.tools?.map(nameMatcher),
      agents: r.agents?.map(nameMatcher),
      classes: r.classes,
      where: compileWhere(r.where),
      require: r.require,
      roles: r.roles,
      quorum: r.quorum,
      expiresMs: r.expiresAfter,
    }));
    this.approvers = new Map(this.section.approvers.map((a) => [a.name, new Set(a.roles)]));
    this.keys = new Map();
    const issues: { path: string; message: string; fix: string }[] = [];
    this.section.approvers.forEach((a, i) => {
      if (a.publicKey === undefined) return;
      // Config loading checks these already; a config object built in code may not have been.
      try {
        const key = parsePublicKey(a.publicKey);
        this.keys.set(a.name, { key, fingerprint: publicKeyFingerprint(a.publicKey) });
      } catch (error) {
        issues.push({
          path: `approvals.approvers[${i}].publicKey`,
          message: error instanceof Error ? error.message : String(error),
          fix: `paste the publicKey printed by \`warden keys generate ${a.name} --approver\``,
        });
      }
    });
    if (issues.length > 0) throw new ConfigError('the approvals section does not validate', issues);
    this.anyRequired = this.rules.some((r) => r.require);
  }

  /** The rules matching a call and what they add up to. */
  needs(agent: string, tool: string, toolConfig: ToolConfig | undefined, args: unknown): ApprovalNeeds {
    const matched: CompiledRule[] = [];
    const a =
      typeof args === 'object' && args !== null && !Array.isArray(args)
        ? (args as Record<string, unknown>)
        : {};
    const full = toolConfig?.server !== undefined ? `${toolConfig.server}/${tool}` : undefined;
    const any = (list: ((n: string) => boolean)[], a: string, b?: string): boolean => {
      for (const m of list) if (m(a) || (b !== undefined && m(b))) return true;
      return false;
    };
    for (const r of this.rules) {
      if (r.agents && !any(r.agents, agent)) continue;
      if (r.tools && !any(r.tools, tool, full)) continue;
      if (r.classes && (toolConfig === undefined || !r.classes.includes(toolConfig.class))) continue;
      // Rules tighten approvals, so doubt about an argument counts as a match (deny mode).
      if (!r.where.test(a, 'deny')) continue;
      matched.push(r);
    }
    let quorum = 1;
    let expiresMs = this.section.expiresAfter;
    const roles: string[][] = [];
    for (const r of matched) {
      quorum = Math.max(quorum, r.quorum);
      if (r.expiresMs !== undefined) expiresMs = Math.min(expiresMs, r.expiresMs);
      if (r.roles) roles.push([...r.roles]);
    }
    return { matched, required: matched.filter((r) => r.require), quorum, roles, expiresMs };
  }

  /** The policy sealed into a new request. */
  policyFor(agent: AgentConfig | undefined, agentId: string, needs: ApprovalNeeds): ApprovalPolicy {
    return {
      quorum: needs.quorum,
      roles: needs.roles,
      rules: needs.matched.map((r) => r.label),
      selfApproval: this.section.selfApproval,
      owner: agent?.owner ?? agentId,
    };
  }

  /** An approver's declared public key and its fingerprint, or undefined. */
  approverKey(name: string): { key: KeyObject; fingerprint: string } | undefined {
    return this.keys.get(name);
  }

  /** People who could approve a request with these needs (for escalations). */
  eligibleApprovers(roles: readonly (readonly string[])[], owner: string): string[] {
    const out: string[] = [];
    for (const [name, held] of this.approvers) {
      if (this.section.selfApproval === 'forbid' && name === owner) continue;
      if (roles.every((list) => list.some((r) => held.has(r)))) out.push(name);
    }
    return out;
  }

  /** Who to name in an escalation for a request with these needs. */
  whoCanApprove(roles: readonly (readonly string[])[], owner: string): string[] {
    const names = this.eligibleApprovers(roles, owner);
    if (names.length > 0) return names;
    if (roles.length > 0) return roles.map((l) => `an approver with role ${l.join(' or ')}`);
    return [this.section.selfApproval === 'forbid' ? `an approver other than ${owner}` : owner];
  }

  /** Why `by` may not vote on this request, or undefined when they may. `deny` votes skip the self-approval rule. */
  refusal(req: ApprovalRequest, by: string, decision: 'approve' | 'deny'): string | undefined {
    if (by.trim() === '') return 'an approver must be named';
    const held = this.approvers.get(by);
    if (this.approvers.size > 0 && held === undefined)
      return `${by} is not an approver (approvals.approvers)`;
    if (decision === 'approve') {
      if (req.policy.selfApproval === 'forbid' && by === req.policy.owner) {
        return `${by} owns agent ${req.agent} and may not approve its requests (approvals.selfApproval: forbid)`;
      }
      for (const list of req.policy.roles) {
        if (!list.some((r) => held?.has(r)))
          return `${by} holds none of the roles ${list.join(', ')} this request needs`;
      }
    }
    return undefined;
  }
}

/**
 * Last stage: calls that a rule with `require: true` covers need a person, whatever the phase.
 * (Deny still wins: a call an earlier stage denied never gets here.)
 */
export function approvalRulesStage(rules: ApprovalRules): Stage {
  return {
    name: 'approval-rules',
    order: STAGE_ORDER.approval,
    kinds: ['tool.call'],
    evaluate(ctx) {
      if (!rules.anyRequired || ctx.event.kind !== 'tool.call') return undefined;
      const call = ctx.event.call;
      const needs = rules.needs(ctx.event.actor.agent, call.tool, ctx.tool, call.args);
      if (needs.required.length === 0) return undefined;
      const owner = ctx.agent?.owner ?? ctx.event.actor.agent;
      return needApproval(
        reason(
          'approval-rule',
          3,
          'ASI02',
          `${needs.required.map((r) => r.label).join(', ')} requires a person to approve ${call.tool}`,
          {
            rules: needs.required.map((r) => r.label),
            quorum: needs.quorum,
          },
        ),
        {
          who: rules.whoCanApprove(needs.roles, owner),
          missing: `approval by ${needs.quorum} approver${needs.quorum > 1 ? 's' : ''}`,
        },
      );
    },
  };
}
