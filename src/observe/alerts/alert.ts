import type { AlertAction, Severity } from '../../config/sections/observe.js';

export type { AlertAction, Severity };

/** Store collection that holds alerts (contract: owned by the observability module). */
export const ALERT_COLLECTION = 'alerts';
/** Pub/sub channel on which new and closed alerts are announced (`AlertAnnouncement`). */
export const ALERT_CHANNEL = 'warden_alerts';
/** Ledger record type of an alert. */
export const ALERT_RECORD = 'alert';

/** Severity order, lowest first. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = {
  info: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
};

/** One event cited as evidence for an alert. */
export interface EvidenceEvent {
  eventId: string;
  ts: number;
  kind: string;
  session: string;
  tool?: string;
  verdict?: string;
}

/** An alert as stored in the `alerts` collection (the contract between modules). */
export interface Alert {
  id: string;
  /** Rule id (`burst`, `unverified-target`, `shadow-agent`, ...). */
  rule: string;
  severity: Severity;
  agent: string;
  session?: string;
  /** Wall time, ms since the epoch. */
  ts: number;
  /** One sentence a person can act on. */
  message: string;
  /** Facts behind the alert: the events (`events`) and rule-specific values. */
  evidence: { events: EvidenceEvent[] } & Record<string, unknown>;
  /** Actions taken (`record` always). */
  actions: AlertAction[];
  status: 'open' | 'closed';
  /** Set when closed. */
  closedAt?: number;
  closedBy?: string;
  closeReason?: string;
}

/** What a detector hands over; the alert manager adds id, time, status and dedupes. */
export interface AlertInput {
  rule: string;
  severity: Severity;
  agent: string;
  session?: string;
  message: string;
  evidence: { events: EvidenceEvent[] } & Record<string, unknown>;
  actions: readonly AlertAction[];
  /** Deduplication key within the rule (default: agent). Same rule and key inside the cooldown alert once. */
  key?: string;
  /** Agents other than `agent` the actions apply to (a campaign across several agents). */
  alsoAgents?: readonly string[];
  /** Wall time of the triggering event. */
  ts: number;
}

/** The small message published on `warden_alerts`; the body is in the `alerts` collection. */
export type AlertAnnouncement = Pick<Alert, 'id' | 'rule' | 'severity' | 'agent' | 'session' | 'ts'> & {
  type: 'alert.raised' | 'alert.closed';
};
