import type { Policy } from '../config/policy.js';
import type { Decision } from '../core/types.js';
import type { Ledger } from '../observe/ledger.js';
import type { Redactor } from '../observe/redact.js';
import type { KillSwitches } from '../observe/kill-switch.js';
import type { Store } from '../store/store.js';
import type { SessionState } from './session-state.js';
import type { Stage, StageContext } from './stage.js';

/** Source of wall time, replaceable in tests and the digital twin. */
export interface Clock {
  now(): number;
}

/**
 * Turns an `approve` decision into a durable approval request, and redeems a granted one.
 * Provided by the actions module as the `approvals` service.
 */
export interface ApprovalBroker {
  /**
   * Called when the pipeline's verdict is `approve`. If a granted, unexpired, unused approval exists for
   * exactly this call, it is consumed and its id returned with `granted: true`; otherwise a request is
   * created (or the pending one for the same call found) and its id returned with `granted: false`.
   */
  resolve(ctx: StageContext, decision: Decision): Promise<{ approvalId: string; granted: boolean }>;
}

/** Shared services for stages and extensions. One per Warden instance. */
export interface Runtime {
  readonly policy: Policy;
  readonly store: Store;
  readonly ledger: Ledger;
  readonly redactor: Redactor;
  readonly killSwitches: KillSwitches;
  readonly clock: Clock;
  /** Open sessions, by session id. */
  readonly sessions: ReadonlyMap<string, SessionState>;
  /** A named service one module provides to others, or undefined. */
  service<T>(name: string): T | undefined;
  /** Registers a named service. Registering a name twice is a programming error. */
  provide(name: string, value: unknown): void;
  /** Writes a control-plane record (approval resolved, kill engaged, alert) to the ledger durably. */
  audit(
    type: string,
    fields: { agent?: string | null; session?: string | null; data: unknown },
  ): Promise<void>;
}

/**
 * A module plugged into Warden: it may contribute stages, services and reactions to decisions.
 * Modules are listed in `pipeline/default-extensions.ts`; the core never imports them directly.
 */
export interface Extension {
  readonly name: string;
  /** Called once at start; returns the stages it adds. May register services on the runtime. */
  setup(runtime: Runtime): Stage[] | Promise<Stage[]>;
  /** Called after every decision (telemetry, inventory). Synchronous; errors are caught. */
  onDecision?(ctx: StageContext, decision: Decision): void;
  /** Called once at shutdown. */
  close?(): Promise<void>;
}
