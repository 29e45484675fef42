import type { WardenConfig } from '../config/schema.js';
import { nameMatcher } from '../actions/grants/glob.js';

/** What `warden validate` says about the `maturity:` section beyond the schema. */
export function maturityWarnings(config: WardenConfig): string[] {
  const m = config.maturity;
  const warnings: string[] = [];
  const ids = new Set(config.agents.map((a) => a.id));
  for (const id of Object.keys(m?.agents ?? {}))
    if (!ids.has(id)) warnings.push(`maturity.agents.${id} names an agent that is not declared`);
  const toolNames = config.tools.flatMap((t) => (t.server ? [t.name, `${t.server}/${t.name}`] : [t.name]));
  const classes = [
    ...(m?.senior.preApproved ?? []),
    ...Object.values(m?.agents ?? {}).flatMap((a) => a.preApproved),
  ];
  for (const p of classes) {
    if (p.tool === undefined) continue;
    const pats = Array.isArray(p.tool) ? p.tool : [p.tool];
    if (!pats.some((x) => toolNames.some(nameMatcher(x))))
      warnings.push(`pre-approved class for ${pats.join(', ')} matches no declared tool`);
  }
  for (const a of config.agents) {
    const extra = m?.agents[a.id];
    if (a.phase === 'principal' && (m?.principal.caps.length ?? 0) + (extra?.caps.length ?? 0) === 0) {
      warnings.push(
        `${a.id} is a Principal without caps (maturity.principal.caps): its changes need approval, as a Senior's outside pre-approved classes`,
      );
    }
    if (
      a.phase === 'senior' &&
      (m?.senior.preApproved.length ?? 0) + (extra?.preApproved.length ?? 0) === 0
    ) {
      warnings.push(
        `${a.id} is a Senior with no pre-approved classes (maturity.senior.preApproved): every change it makes needs approval`,
      );
    }
  }
  const roles = m?.promotion.signoffRoles ?? [];
  if (
    roles.length > 0 &&
    !(config.approvals?.approvers ?? []).some((p) => p.roles.some((r) => roles.includes(r)))
  ) {
    warnings.push(
      `maturity.promotion.signoffRoles (${roles.join(', ')}): no approver holds them, so no promotion can be signed off`,
    );
  }
  if (m?.promotion.requireSignedSignoff) {
    const eligible = (config.approvals?.approvers ?? []).filter(
      (p) => roles.length === 0 || p.roles.some((r) => roles.includes(r)),
    );
    if (!eligible.some((p) => p.publicKey !== undefined)) {
      warnings.push(
        `maturity.promotion.requireSignedSignoff is true, but no approver who may sign off has a publicKey (approvals.approvers), so no promotion can be signed off; add one with \`warden keys generate NAME --approver\``,
      );
    }
  }
  return warnings;
}
