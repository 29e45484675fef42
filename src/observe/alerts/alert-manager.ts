import { randomUUID } from 'node:crypto';
import type { Runtime } from '../../pipeline/runtime.js';
import { BoundedMap } from '../bounded-map.js';
import {
  ALERT_CHANNEL,
  ALERT_COLLECTION,
  ALERT_RECORD,
  SEVERITY_RANK,
  type Alert,
  type AlertAction,
  type AlertAnnouncement,
  type AlertInput,
  type Severity,
} from './alert.js';
import type { WebhookNotifier } from './webhook.js';

/** What alert actions do to an agent; provided by the observability extension. */
export interface AlertEffects {
  /** `require-approval`: the agent's consequential actions need approval while the hold lasts. */
  hold(agent: string, alert: Alert): Promise<void>;
  /** `quarantine`: quarantine the agent and contain its recent output. */
  quarantine(agent: string, alert: Alert): Promise<void>;
  /** `kill`: engage the agent kill switch. */
  kill(agent: string, alert: Alert): Promise<void>;
}

/** Options of the alert manager. */
export interface AlertManagerOptions {
  /** The same rule and key alert once within this time. */
  cooldownMs: number;
  /** Alerts raised per minute; more are counted as suppressed. */
  maxPerMinute: number;
  webhook?: WebhookNotifier;
  /** Least severe alert sent to the webhook. */
  notifyMin: Severity;
  effects: AlertEffects;
  onError: (error: unknown, where: string) => void;
}

/** Counters for tests and the control plane. */
export interface AlertStats {
  raised: number;
  deduplicated: number;
  suppressed: number;
}

const EVIDENCE_EVENTS = 50;

function newAlertId(ts: number): string {
  // Sortable by time, so `listDocs` returns alerts oldest first.
  return `al-${ts.toString(36).padStart(9, '0')}-${randomUUID().slice(0, 8)}`;
}

/**
 * Turns detector findings into alerts: deduplicates and rate-limits them, applies their actions at once
 * (hold, quarantine and kill take effect before `raise` returns), and records them in the background
 * (ledger record `alert`, `alerts` collection, `warden_alerts` channel, webhook). `raise` never blocks.
 */
export class AlertManager {
  private readonly runtime: Runtime;
  private readonly options: AlertManagerOptions;
  private readonly lastByKey: BoundedMap<string, number>;
  private windowStart = 0;
  private windowCount = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly listeners = new Set<(alert: Alert) => void>();
  readonly stats: AlertStats = { raised: 0, deduplicated: 0, suppressed: 0 };

  constructor(runtime: Runtime, options: AlertManagerOptions) {
    this.runtime = runtime;
    this.options = options;
    this.lastByKey = new BoundedMap(50_000);
  }

  /** Called for every alert raised here (after effects are applied). */
  onAlert(listener: (alert: Alert) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Raises an alert, or returns undefined when it is a duplicate or over the rate limit. Synchronous. */
  raise(input: AlertInput): Alert | undefined {
    const now = input.ts;
    const dedupe = `${input.rule}\u0000${input.key ?? input.agent}`;
    const last = this.lastByKey.get(dedupe);
    if (last !== undefined && now - last < this.options.cooldownMs) {
      this.stats.deduplicated++;
      return undefined;
    }
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (this.windowCount >= this.options.maxPerMinute) {
      this.stats.suppressed++;
      return undefined;
    }
    this.windowCount++;
    this.lastByKey.set(dedupe, now);
    this.stats.raised++;

    const actions: AlertAction[] = ['record', ...input.actions.filter((a) => a !== 'record')];
    const evidence: Alert['evidence'] = {
      ...input.evidence,
      events: input.evidence.events.slice(-EVIDENCE_EVENTS),
    };
    if (input.evidence.events.length > EVIDENCE_EVENTS) evidence.eventCount = input.evidence.events.length;
    if (input.alsoAgents && input.alsoAgents.length > 0) evidence.agents = [input.agent, ...input.alsoAgents];
    const alert: Alert = {
      id: newAlertId(now),
      rule: input.rule,
      severity: input.severity,
      agent: input.agent,
      ts: now,
      message: this.runtime.redactor.text(input.message),
      evidence: this.runtime.redactor.value(evidence) as Alert['evidence'],
      actions,
      status: 'open',
    };
    if (input.session !== undefined) alert.session = input.session;

    const targets = [input.agent, ...(input.alsoAgents ?? [])];
    for (const agent of targets) {
      if (actions.includes('kill')) this.track(this.options.effects.kill(agent, alert), 'alert kill');
      else if (actions.includes('quarantine'))
        this.track(this.options.effects.quarantine(agent, alert), 'alert quarantine');
      if (actions.includes('require-approval'))
        this.track(this.options.effects.hold(agent, alert), 'alert hold');
    }
    this.track(this.persist(alert), 'alert record');
    if (
      actions.includes('notify') &&
      this.options.webhook &&
      SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[this.options.notifyMin]
    ) {
      this.options.webhook.send(alert);
    }
    for (const l of this.listeners) {
      try {
        l(alert);
      } catch (error) {
        this.options.onError(error, 'alert listener');
      }
    }
    return alert;
  }

  /** Closes an alert (and lifts any hold it placed). Resolves the closed alert, or undefined when unknown. */
  async close(
    id: string,
    by: string,
    why: string,
    releaseHold: (agent: string, alertId: string) => Promise<unknown>,
  ): Promise<Alert | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const doc = await this.runtime.store.getDoc<Alert>(ALERT_COLLECTION, id);
      if (!doc) return undefined;
      if (doc.body.status === 'closed') return doc.body;
      const closed: Alert = {
        ...doc.body,
        status: 'closed',
        closedAt: this.runtime.clock.now(),
        closedBy: by,
        closeReason: why,
      };
      if (!(await this.runtime.store.putDoc(ALERT_COLLECTION, id, closed, doc.version))) continue;
      const agents = [
        closed.agent,
        ...((closed.evidence as { agents?: string[] }).agents ?? []).filter((a) => a !== closed.agent),
      ];
      for (const agent of agents) await releaseHold(agent, id);
      await this.runtime.audit('alert.closed', {
        agent: closed.agent,
        session: closed.session ?? null,
        data: { id, rule: closed.rule, by, reason: why },
      });
      await this.runtime.store.publish(ALERT_CHANNEL, this.announcement(closed, 'alert.closed'));
      return closed;
    }
    throw new Error(`alert ${id} kept changing while it was being closed`);
  }

  /** Waits for background recording (ledger, store, effects) to finish. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async persist(alert: Alert): Promise<void> {
    // The ledger first: it is the evidence; the collection and the channel are for people and other modules.
    await this.runtime.audit(ALERT_RECORD, {
      agent: alert.agent,
      session: alert.session ?? null,
      data: alert,
    });
    await this.runtime.store.putDoc(ALERT_COLLECTION, alert.id, alert, 0);
    await this.runtime.store.publish(ALERT_CHANNEL, this.announcement(alert, 'alert.raised'));
  }

  private announcement(alert: Alert, type: AlertAnnouncement['type']): AlertAnnouncement {
    const a: AlertAnnouncement = {
      type,
      id: alert.id,
      rule: alert.rule,
      severity: alert.severity,
      agent: alert.agent,
      ts: alert.ts,
    };
    if (alert.session !== undefined) a.session = alert.session;
    return a;
  }

  private track(p: Promise<unknown>, where: string): void {
    const tracked: Promise<void> = p.then(
      () => undefined,
      (error: unknown) => {
        this.options.onError(error, where);
      },
    );
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }
}
