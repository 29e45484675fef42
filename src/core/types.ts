/**
 * The vocabulary every module shares: events, decisions and reasons. Kept free of runtime code so that
 * any module (and any adapter) can import it without pulling in the pipeline.
 */

/** What the pipeline decides for one event. `approve` means a person must decide; `halt` means a kill switch is engaged. */
export type Verdict = 'allow' | 'deny' | 'approve' | 'halt';

/** The six control domains of the framework: 1 identity, 2 input trust, 3 actions, 4 memory, 5 supply chain, 6 observability. */
export type Domain = 1 | 2 | 3 | 4 | 5 | 6;

/** OWASP Top 10 for Agentic Applications 2026 identifiers. */
export type RiskId =
  'ASI01' | 'ASI02' | 'ASI03' | 'ASI04' | 'ASI05' | 'ASI06' | 'ASI07' | 'ASI08' | 'ASI09' | 'ASI10';

/** Why a stage said what it said. Every non-allow decision carries at least one. */
export interface Reason {
  /** Stable name of the control, e.g. `kill-switch`, `phase`, `verification`. */
  control: string;
  domain: Domain;
  risk: RiskId;
  /** One sentence a person can act on. Never contains a secret. */
  message: string;
  /** Facts behind the reason (argument names, provenance, matched rule). Redacted before it is stored. */
  evidence?: Record<string, unknown>;
}

/** What a caller should do to get a refused action done legitimately (never: acquire more permissions). */
export interface Escalation {
  /** Who can grant or approve: roles or people from config. */
  who: string[];
  /** What is missing, in words. */
  missing: string;
}

/** The kinds of event that enter the pipeline. */
export type EventKind =
  | 'ingest'
  | 'tool.call'
  | 'tool.result'
  | 'message'
  | 'memory.write'
  | 'memory.read'
  | 'credential.issue'
  | 'credential.revoke';

/** Trust tier of content: 1 system and verified user, 2 internal with provenance, 3 external. */
export type Tier = 1 | 2 | 3;

/** Who is acting. `agent` and `session` are always known; the rest may be absent. */
export interface Actor {
  agent: string;
  session: string;
  user?: string;
  task?: string;
  tenant?: string;
}

/** A proposed tool call. */
export interface ToolCall {
  tool: string;
  args: Record<string, unknown>;
  /** The caller's id for this call (MCP request id, SDK call id). */
  callId?: string;
  /** The agent's own explanation. Kept apart from the facts and shown to approvers as such (ASI09). */
  rationale?: string;
  /** The MCP server or integration the tool belongs to, when there are several. */
  server?: string;
}

/** Content entering an agent's context. */
export interface Content {
  /** The configured source name (for example `user`, `system`, `web`, `crm`). */
  source: string;
  text: string;
  /** Overrides the tier the source maps to; only ever lowers trust, never raises it. */
  tier?: Tier;
  /** Free-form provenance (URL, document id, message id). */
  ref?: string;
}

/** An agent-to-agent message as it arrives. */
export interface AgentMessage {
  from: string;
  to: string;
  payload: string;
  /** Signed envelope, when the sender signs (see observe/messages). */
  envelope?: Record<string, unknown>;
}

/** A memory operation. */
export interface MemoryOp {
  namespace: string;
  key: string;
  value?: unknown;
  /** True when the write changes the agent's goals or standing instructions. */
  goalAltering?: boolean;
}

/** Every event the pipeline decides on. */
export type WardenEvent =
  | { kind: 'ingest'; actor: Actor; content: Content }
  | { kind: 'tool.call'; actor: Actor; call: ToolCall }
  | {
      kind: 'tool.result';
      actor: Actor;
      call: ToolCall;
      result: unknown;
      isError?: boolean;
      /** Tier of the result, when the caller knows better than the tool's config (only lowers trust). */
      tier?: Tier;
    }
  | { kind: 'message'; actor: Actor; message: AgentMessage }
  | { kind: 'memory.write'; actor: Actor; memory: MemoryOp }
  | { kind: 'memory.read'; actor: Actor; memory: MemoryOp }
  | { kind: 'credential.issue'; actor: Actor; credential: { name: string; scope?: string } }
  | { kind: 'credential.revoke'; actor: Actor; credential: { name: string; scope?: string } };

/** The decision returned for one event. A value, never an exception. */
export interface Decision {
  verdict: Verdict;
  reasons: Reason[];
  /** Ledger id of the event this decides. */
  eventId: string;
  escalation?: Escalation;
  /** Set when `verdict` is `approve`: the durable approval request to wait on or resume. */
  approvalId?: string;
  /** Set when a stage neutralised ingested content: what may enter the context instead. */
  content?: string;
  /** Tier the content or result was labelled with, for ingest and tool.result. */
  tier?: Tier;
}
