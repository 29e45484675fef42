/**
 * Turning scan findings into pipeline reasons, so the gateway can deny or ask for approval with the same
 * vocabulary as every other control (domain 5, supply chain; OWASP ASI04).
 */
import type { Reason } from '../../core/types.js';
import { rank } from './text-rules.js';
import type { Finding, Severity } from './types.js';

/** Name of the control in reasons and in the ledger. */
export const TOOL_DEFINITION_CONTROL = 'tool-definition-scan';

/**
 * One reason per finding at or above `minSeverity` (default `medium`), most severe first. The evidence holds
 * the tool, server, rule, location and excerpt; it never holds more than the excerpt of the definition.
 */
export function findingsToReasons(
  tool: { server?: string; name: string },
  findings: readonly Finding[],
  minSeverity: Severity = 'medium',
): Reason[] {
  return findings
    .filter((f) => rank(f.severity) >= rank(minSeverity))
    .sort((a, b) => rank(b.severity) - rank(a.severity))
    .map((f) => ({
      control: TOOL_DEFINITION_CONTROL,
      domain: 5,
      risk: 'ASI04',
      message: `Tool "${tool.name}"${tool.server === undefined ? '' : ` (server "${tool.server}")`}: ${f.message}`,
      evidence: {
        tool: tool.name,
        ...(tool.server === undefined ? {} : { server: tool.server }),
        kind: f.kind,
        rule: f.rule,
        severity: f.severity,
        location: f.location,
        excerpt: f.evidence,
        ...(f.related === undefined ? {} : { related: f.related }),
      },
    }));
}
