import { Policy } from '../config/policy.js';
import type { WardenConfig } from '../config/schema.js';
import { ApprovalRules } from './approvals/rules.js';
import { CedarEngine } from './grants/cedar.js';
import { GrantMatcher } from './grants/matcher.js';

/**
 * What `warden validate` says about Domain 3 beyond the schema: Cedar that does not parse (thrown as a
 * ConfigError naming the line), and warnings for policies that load but probably do not mean what their
 * author thinks (agents without grants, grants a deny always overrides, approvals nobody can give, approvers whose votes
 * are unsigned names).
 */
export function actionsWarnings(config: WardenConfig, baseDir: string): string[] {
  const policy = new Policy(config, baseDir);
  CedarEngine.fromPolicy(policy);
  const warnings: string[] = [];
  const undeclared = config.actions?.undeclaredGrants ?? 'all-declared-tools';
  config.agents.forEach((a, i) => {
    if (a.grants !== undefined) return;
    warnings.push(
      undeclared === 'none'
        ? `agents[${i}] (${a.id}) declares no \`grants:\` and actions.undeclaredGrants is none: it may call nothing`
        : `agents[${i}] (${a.id}) declares no \`grants:\`: it may call every declared tool (the other gates still apply); declare grants for least privilege`,
    );
  });
  warnings.push(...new GrantMatcher(policy).warnings);
  const rules = new ApprovalRules(policy);
  const approvers = rules.section.approvers;
  const supervised = config.agents.some((a) => a.phase !== 'intern') || rules.rules.length > 0;
  if (approvers.length === 0 && supervised) {
    warnings.push(
      'approvals.approvers is empty: any name given to `warden approvals approve --as` may approve (only the owner rule applies); list the approvers',
    );
  }
  const keyless = approvers.filter((a) => a.publicKey === undefined).map((a) => a.name);
  if (keyless.length > 0 && config.approvals?.requireSignedVotes !== true) {
    warnings.push(
      `approvals.approvers without a publicKey (${keyless.join(', ')}): their votes are names that anyone who can run \`warden approvals\` against the store can type; give each a key (\`warden keys generate NAME --approver\`) and set approvals.requireSignedVotes`,
    );
  }
  rules.rules.forEach((r) => {
    const roles = r.roles;
    const eligible = roles
      ? approvers.filter((a) => roles.some((role) => a.roles.includes(role)))
      : approvers;
    if (roles && eligible.length === 0)
      warnings.push(
        `${r.label} needs role ${roles.join(' or ')}, which no approver holds: its requests can never be granted`,
      );
    else if (approvers.length > 0 && r.quorum > eligible.length) {
      warnings.push(
        `${r.label} needs ${r.quorum} approvers but only ${eligible.length} are eligible: its requests can never be granted`,
      );
    }
  });
  return warnings;
}
