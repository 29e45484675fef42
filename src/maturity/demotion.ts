import type { Policy } from '../config/policy.js';
import type { Phase } from '../config/schema.js';
import type { MaturitySection } from '../config/sections/maturity.js';
import type { Runtime } from '../pipeline/runtime.js';
import type { Store } from '../store/store.js';
import { previousPhase, title } from './phases.js';
import { ALERTS_COLLECTION, type Promotions } from './promotion.js';

/**
 * Automatic demotion on a critical alert (contracts.md: alerts are docs in `alerts`, announced on
 * `warden_alerts`). The agent drops one phase (or to intern, `maturity.demotion.onCritical`), its time at
 * phase restarts (an Intern stays an Intern but its 14 days start again), and the ledger says why.
 *
 * Alerts raised while no Warden ran are caught at start. Each alert demotes once: its id goes into the
 * agent's history, and an alert older than the agent's current phase is already accounted for.
 * Several replicas hearing the same alert race on a compare-and-set; one wins, the others see it done.
 */

/** Channel on which alerts are announced (owned by the observability module). */
export const ALERTS_CHANNEL = 'warden_alerts';

interface AlertLike {
  type?: unknown;
  alsoAgents?: unknown;
  id?: unknown;
  severity?: unknown;
  agent?: unknown;
  ts?: unknown;
  rule?: unknown;
  message?: unknown;
}

/** What a demotion did. */
export interface DemotionOutcome {
  agent: string;
  alert: string;
  from: Phase;
  to: Phase;
}

/** Listens for critical alerts and demotes. */
export class CriticalAlertDemoter {
  private readonly promotions: Promotions;
  private readonly policy: Policy;
  private readonly section: MaturitySection;
  private readonly store: Store;
  private readonly runtime: Pick<Runtime, 'audit' | 'clock'>;
  private unsubscribe: (() => Promise<void>) | undefined;
  /** Serialises handling so that one process never races itself. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Called after each demotion (tests, the server). */
  onDemoted: ((o: DemotionOutcome) => void) | undefined;

  constructor(
    promotions: Promotions,
    policy: Policy,
    section: MaturitySection,
    store: Store,
    runtime: Pick<Runtime, 'audit' | 'clock'>,
  ) {
    this.promotions = promotions;
    this.policy = policy;
    this.section = section;
    this.store = store;
    this.runtime = runtime;
  }

  /** Subscribes to alerts, then handles every critical alert already stored. */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(ALERTS_CHANNEL, (m) => {
      void this.enqueue(() => this.fromMessage(m));
    });
    await this.enqueue(() => this.checkStored());
  }

  /** Stops listening and waits for work in progress. */
  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.chain.catch(() => undefined);
  }

  /** Waits for queued alerts to be handled (tests). */
  idle(): Promise<unknown> {
    return this.chain.catch(() => undefined);
  }

  private enqueue(work: () => Promise<unknown>): Promise<unknown> {
    this.chain = this.chain.then(work, work).catch(() => undefined);
    return this.chain;
  }

  private async fromMessage(m: unknown): Promise<void> {
    const msg = (typeof m === 'object' && m !== null ? m : {}) as AlertLike & { alert?: AlertLike };
    const inner = typeof msg.alert === 'object' && msg.alert !== null ? msg.alert : msg;
    // A closed alert is not a new incident (its raise was handled, or is handled from the store at start).
    if (inner.type === 'alert.closed') return;
    const id = typeof inner.id === 'string' ? inner.id : undefined;
    // The stored alert is authoritative; the message is only a wake-up.
    const stored = id === undefined ? undefined : await this.store.getDoc<AlertLike>(ALERTS_COLLECTION, id);
    await this.handle(stored?.body ?? inner, id ?? 'unknown');
  }

  /** Handles every stored critical alert (at start). */
  async checkStored(): Promise<DemotionOutcome[]> {
    const out: DemotionOutcome[] = [];
    const docs = await this.store.listDocs<AlertLike>(ALERTS_COLLECTION);
    const critical = docs
      .filter((d) => d.body?.severity === 'critical')
      .sort((a, b) => Number(a.body.ts ?? 0) - Number(b.body.ts ?? 0));
    for (const d of critical) out.push(...(await this.handle(d.body, d.id)));
    return out;
  }

  /** Demotes the alert's agent (and the other agents it names) if the alert is critical and not yet accounted for. */
  async handle(alert: AlertLike, id: string): Promise<DemotionOutcome[]> {
    if (alert.severity !== 'critical' || typeof alert.agent !== 'string') return [];
    const also = Array.isArray(alert.alsoAgents)
      ? alert.alsoAgents.filter((a): a is string => typeof a === 'string')
      : [];
    const out: DemotionOutcome[] = [];
    for (const agentId of new Set([alert.agent, ...also])) {
      const o = await this.demoteOne(agentId, alert, id);
      if (o) out.push(o);
    }
    return out;
  }

  private async demoteOne(
    agentId: string,
    alert: AlertLike,
    id: string,
  ): Promise<DemotionOutcome | undefined> {
    if (!this.policy.agent(agentId)) return undefined;
    const ts =
      typeof alert.ts === 'number' && Number.isFinite(alert.ts) ? alert.ts : this.runtime.clock.now();
    const rule = typeof alert.rule === 'string' ? ` (${alert.rule})` : '';
    const message = typeof alert.message === 'string' ? `: ${alert.message.slice(0, 300)}` : '';
    let outcome: DemotionOutcome | undefined;
    await this.promotions.write(agentId, (current, state) => {
      outcome = undefined;
      if (state && (ts < state.since || state.history.some((h) => h.alert === id))) return null;
      const to: Phase = this.section.demotion.onCritical === 'intern' ? 'intern' : previousPhase(current);
      outcome = { agent: agentId, alert: id, from: current, to };
      return {
        phase: to,
        from: current,
        at: this.runtime.clock.now(),
        by: 'warden',
        reason: `critical alert ${id}${rule}${message}; ${current === to ? `stays ${title(to)}, time at phase restarts` : `demoted from ${title(current)} to ${title(to)}`}`,
        alert: id,
      };
    });
    if (!outcome) return undefined;
    await this.runtime.audit('phase.demoted', {
      agent: agentId,
      data: {
        from: outcome.from,
        to: outcome.to,
        by: 'warden',
        automatic: true,
        alert: id,
        reason: `critical alert${rule}${message}`,
      },
    });
    this.onDemoted?.(outcome);
    return outcome;
  }
}
