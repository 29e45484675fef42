/**
 * What the model reads when Warden refuses: a tool result with `isError: true` and one text block saying
 * what was refused and why, and who can help. Tool errors (not JSON-RPC errors) are used on purpose: the
 * model sees them and can adapt, while a protocol error is often swallowed by the client.
 */
import type { Decision } from '../core/types.js';

/** A refusal as a CallToolResult. `redact` removes secrets (the ledger redactor and the gateway's stripper). */
export function refusalResult(
  tool: string,
  decision: Decision,
  redact: (text: string) => string,
  lead?: string,
): Record<string, unknown> {
  const head =
    lead ??
    (decision.verdict === 'halt'
      ? `Warden halted the call to ${tool}: a kill switch is engaged.`
      : decision.verdict === 'approve'
        ? `The call to ${tool} needs human approval and did not run.`
        : `Warden denied the call to ${tool}.`);
  const lines = [head];
  for (const r of decision.reasons) lines.push(`- ${r.message} [${r.control}, ${r.risk}]`);
  if (decision.escalation)
    lines.push(
      `To get this done legitimately: ${decision.escalation.missing} (ask: ${decision.escalation.who.join(', ')}).`,
    );
  lines.push('Do not retry the same call unchanged; tell the user what was refused.');
  return { content: [{ type: 'text', text: redact(lines.join('\n')) }], isError: true };
}

/** A refusal with a message of the gateway's own (approval refused, upstream missing). */
export function plainRefusal(text: string, redact: (text: string) => string): Record<string, unknown> {
  return { content: [{ type: 'text', text: redact(text) }], isError: true };
}

/** A result whose content Warden replaced (neutralised by the trust module). */
export function replacedResult(original: Record<string, unknown>, text: string): Record<string, unknown> {
  const out: Record<string, unknown> = { content: [{ type: 'text', text }] };
  if (original.isError === true) out.isError = true;
  if (original._meta !== undefined) out._meta = original._meta;
  return out;
}
