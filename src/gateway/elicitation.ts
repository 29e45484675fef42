/**
 * Asking the person in the MCP client to approve a held call (elicitation/create, form mode). The message
 * shows facts first (tool, server, each argument with where its value came from, why Warden asks) and the
 * agent's own explanation apart and labelled as unverified (ASI09: facts, not the agent's story).
 */
import type { Decision, ToolCall } from '../core/types.js';
import { isPlainObject } from './jsonrpc.js';

/** Where one argument's value came from, as the trust module reports it. */
export interface ArgumentFact {
  name: string;
  /** Short rendering of the value, redacted. */
  value: string;
  /** Provenance in words (`user message`, `result of list_repos`, `untrusted web content`, `nowhere`). */
  provenance: string;
}

/** Everything an approver is shown. */
export interface ApprovalFacts {
  approvalId: string;
  agent: string;
  server: string | undefined;
  tool: string;
  args: ArgumentFact[];
  reasons: string[];
  rationale: string | undefined;
  expiresAt: number | undefined;
}

const MAX_VALUE = 200;

/** Replaces control, bidirectional and zero-width characters (which could disguise a value) with spaces. */
function withoutControls(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    const hidden =
      c < 0x20 ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069) ||
      c === 0xfeff;
    out += hidden ? ' ' : ch;
  }
  return out;
}

/** A short, single-line rendering of an argument value. */
export function renderValue(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  s = withoutControls(s);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}… (${s.length} chars)` : s;
}

const PROVENANCE_WORDS: Readonly<Record<string, string>> = {
  tier1: 'a user or system message (tier 1)',
  authoritative: 'an authoritative tool result',
  tier2: 'internal content (tier 2)',
  tier3: 'untrusted external content (tier 3)',
  unverified: 'NOWHERE in this session (the agent produced it)',
  trivial: 'trivial value',
};

/** Turns what the trust service says about a value (`{ provenance, source, private }`) into words. */
export function describeProvenance(p: unknown): string {
  if (p === undefined || p === null) return 'not traced (no provenance service)';
  if (typeof p === 'string') return PROVENANCE_WORDS[p] ?? p;
  if (isPlainObject(p)) {
    const cls =
      typeof p.provenance === 'string' ? (PROVENANCE_WORDS[p.provenance] ?? p.provenance) : undefined;
    const src = isPlainObject(p.source) ? p.source : undefined;
    const where =
      src === undefined
        ? ''
        : ` (${typeof src.kind === 'string' ? (src.kind === 'result' ? 'result of ' : src.kind === 'ingest' ? 'source ' : 'message from ') : ''}${typeof src.name === 'string' ? src.name : '?'}${typeof src.ref === 'string' ? `, ${src.ref}` : ''})`;
    if (cls !== undefined) return `${cls}${where}`;
  }
  return renderValue(p);
}

/** The text shown to the person. */
export function approvalMessage(f: ApprovalFacts): string {
  const lines: string[] = [];
  lines.push(`Warden holds a tool call for your approval (request ${f.approvalId}).`);
  lines.push('');
  lines.push(`Agent: ${f.agent}`);
  lines.push(`Tool: ${f.tool}${f.server ? ` on server ${f.server}` : ''}`);
  lines.push('Arguments (value, then where it came from):');
  if (f.args.length === 0) lines.push('  (none)');
  for (const a of f.args) lines.push(`  - ${a.name} = ${a.value}  [from: ${a.provenance}]`);
  lines.push('Why Warden asks:');
  for (const r of f.reasons) lines.push(`  - ${r}`);
  lines.push('');
  lines.push(
    f.rationale === undefined
      ? 'The agent gave no explanation.'
      : `The agent's own explanation (its words, not verified by Warden): ${renderValue(f.rationale)}`,
  );
  if (f.expiresAt !== undefined)
    lines.push(`This request expires at ${new Date(f.expiresAt).toISOString()}.`);
  lines.push('Approve only if you expected this exact call.');
  return lines.join('\n');
}

/** The form: one yes/no and an optional note. */
export const APPROVAL_SCHEMA = {
  type: 'object',
  properties: {
    approve: {
      type: 'boolean',
      title: 'Approve this call',
      description: 'Yes runs the call once, with exactly these arguments.',
      default: false,
    },
    note: {
      type: 'string',
      title: 'Note (optional)',
      description: 'Recorded with your decision.',
      maxLength: 500,
    },
  },
  required: ['approve'],
} as const;

/** Params of the elicitation/create request. */
export function elicitationParams(f: ApprovalFacts): Record<string, unknown> {
  // `mode` is left out: absent means form, and clients older than 2025-11-25 do not know the member.
  return { message: approvalMessage(f), requestedSchema: APPROVAL_SCHEMA };
}

/** What the person answered. `cancelled` covers dismissing the dialog and a failed request. */
export type ElicitedAnswer =
  { answer: 'approve' | 'refuse'; note?: string } | { answer: 'cancelled'; detail: string };

/** Reads an elicitation result (already known to be a success reply). */
export function readAnswer(result: Record<string, unknown>): ElicitedAnswer {
  const action = result.action;
  if (action === 'decline') return { answer: 'refuse' };
  if (action !== 'accept')
    return { answer: 'cancelled', detail: `the person dismissed the request (${String(action)})` };
  const content = isPlainObject(result.content) ? result.content : {};
  const note = typeof content.note === 'string' ? content.note.slice(0, 500) : undefined;
  const yes = content.approve === true;
  return note === undefined
    ? { answer: yes ? 'approve' : 'refuse' }
    : { answer: yes ? 'approve' : 'refuse', note };
}

/** Whether the client can answer a form elicitation (an empty `elicitation: {}` means form). */
export function clientSupportsFormElicitation(capabilities: unknown): boolean {
  if (!isPlainObject(capabilities)) return false;
  const e = capabilities.elicitation;
  if (!isPlainObject(e)) return false;
  if (Object.keys(e).length === 0) return true;
  return isPlainObject(e.form);
}

/** Facts for a call, from the decision and a provenance look-up. */
export function factsFor(
  call: ToolCall,
  decision: Decision,
  agent: string,
  provenance: (value: unknown) => unknown,
  redact: (text: string) => string,
  expiresAt: number | undefined,
): ApprovalFacts {
  const args: ArgumentFact[] = Object.entries(call.args).map(([name, value]) => {
    let p: unknown;
    try {
      p = provenance(value);
    } catch {
      p = 'unknown (provenance look-up failed)';
    }
    return { name, value: redact(renderValue(value)), provenance: redact(describeProvenance(p)) };
  });
  return {
    approvalId: decision.approvalId ?? '(none)',
    agent,
    server: call.server,
    tool: call.tool,
    args,
    reasons: decision.reasons.map((r) => redact(`${r.message} [${r.control}, ${r.risk}]`)),
    rationale: call.rationale === undefined ? undefined : redact(call.rationale),
    expiresAt,
  };
}
