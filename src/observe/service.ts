import type { KillSwitch } from './kill-switch.js';
import type { Alert, AlertInput } from './alerts/alert.js';
import type { ContainmentReport } from './containment/containment.js';
import type { EngineStats } from './detectors/engine.js';
import type { HoldRecord, QuarantineRecord } from './quarantine/holds.js';

/** Name under which the observability module registers its service (`runtime.service<ObserveService>('observe')`). */
export const OBSERVE_SERVICE = 'observe';

/** Who did something and why: every incident-response action is recorded with both. */
export interface Attribution {
  reason: string;
  by: string;
}

/**
 * What the observability module offers other modules, the control plane and the CLI: alerts, quarantine,
 * holds, containment and hooks on kill switches.
 */
export interface ObserveService {
  /** Raises an alert from another module (dedupe, rate limit and actions apply). Synchronous. */
  raiseAlert(input: AlertInput): Alert | undefined;
  /** Closes an alert and lifts the hold it placed. */
  closeAlert(id: string, who: Attribution): Promise<Alert | undefined>;
  /** Quarantines an agent: its consequential actions need approval (or are denied) and its recent output is contained. */
  quarantine(
    agent: string,
    who: Attribution & { mode?: 'approve' | 'deny'; alertId?: string },
  ): Promise<QuarantineRecord>;
  /** Lifts a quarantine; resolves whether one was in force. */
  unquarantine(agent: string, who: Attribution): Promise<boolean>;
  isQuarantined(agent: string): boolean;
  /** Puts an agent on an approval hold for `seconds`. */
  hold(agent: string, who: Attribution & { seconds: number }): Promise<void>;
  /** Lifts an agent's hold entirely. */
  releaseHold(agent: string, who: Attribution): Promise<boolean>;
  quarantined(): QuarantineRecord[];
  holds(): HoldRecord[];
  /** Runs containment for an agent now (also runs on quarantine and agent kill). */
  contain(agent: string, trigger: 'quarantine' | 'kill', why: string): Promise<ContainmentReport | undefined>;
  /**
   * Registers a reaction to an engaged kill switch (any scope, from this process or another replica): the
   * hook for revoking credentials. The listener may be async; its failure is reported, never thrown.
   */
  onKill(listener: (sw: KillSwitch) => void | Promise<void>): () => void;
  /** Registers a reaction to a quarantine (engaged or lifted). */
  onQuarantine(listener: (agent: string, record: QuarantineRecord, engaged: boolean) => void): () => void;
  /** Registers a reaction to alerts raised in this process. */
  onAlert(listener: (alert: Alert) => void): () => void;
  /** Runs deferred detector work, then waits for alerts, inventory and telemetry to be written. */
  flush(): Promise<void>;
  detectorStats(): EngineStats;
  /** True when OpenTelemetry export is on. */
  readonly telemetry: boolean;
}
