import type { StageOutcome } from '../core/decision.js';
import type { Decision, EventKind, WardenEvent } from '../core/types.js';
import type { AgentConfig, ToolConfig } from '../config/schema.js';
import type { Policy } from '../config/policy.js';
import type { SessionState } from './session-state.js';
import type { Runtime } from './runtime.js';

/** Everything a stage may look at for one event. Built once per event; stages must not keep it. */
export interface StageContext {
  readonly event: WardenEvent;
  /** Ledger id the decision will carry. */
  readonly eventId: string;
  readonly policy: Policy;
  readonly runtime: Runtime;
  readonly session: SessionState;
  /** The agent's config, or undefined for an agent nobody configured. */
  readonly agent: AgentConfig | undefined;
  /** For tool events, the tool's config, or undefined for an unknown tool. */
  readonly tool: ToolConfig | undefined;
  /** Wall time of the event, ms since the epoch. */
  readonly now: number;
  /** Aborted when the stage times out or the session is killed. */
  readonly signal: AbortSignal;
}

/** Conventional stage order, cheapest first (DESIGN.md). Stages may use values in between. */
export const STAGE_ORDER = {
  killSwitch: 100,
  identity: 200,
  phase: 300,
  leastPrivilege: 400,
  trust: 500,
  verification: 600,
  sequence: 700,
  approval: 800,
} as const;

/**
 * One step of the decision pipeline. `evaluate` may return synchronously (the fast path) or a promise
 * (bounded by the pipeline's stage timeout). Returning undefined means "no objection".
 * Throwing, rejecting or timing out denies the event: the pipeline fails closed.
 */
export interface Stage {
  readonly name: string;
  readonly order: number;
  /** Event kinds this stage looks at; absent means all. */
  readonly kinds?: readonly EventKind[];
  evaluate(ctx: StageContext): StageOutcome | undefined | Promise<StageOutcome | undefined>;
  /**
   * Called after the decision, for every event of the stage's kinds, so the stage can learn from it
   * (provenance index, counters, taint). Must be synchronous and cheap; errors are caught and recorded.
   */
  observe?(ctx: StageContext, decision: Decision): void;
}
