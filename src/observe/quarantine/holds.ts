import type { Store } from '../../store/store.js';

/** Store collection of quarantined agents (contract: id = agent id). */
export const QUARANTINE_COLLECTION = 'quarantine';
/** Store collection of approval holds (an alert's `require-approval`, containment of consumers). */
export const HOLD_COLLECTION = 'observe_holds';
/** Channel on which quarantine and hold changes are announced to other replicas. */
export const QUARANTINE_CHANNEL = 'warden_quarantine';

/** A quarantined agent, as stored. */
export interface QuarantineRecord {
  agent: string;
  reason: string;
  by: string;
  since: number;
  /** `approve`: consequential calls need approval; `deny`: they are denied. */
  mode: 'approve' | 'deny';
  alertId?: string;
}

/** Why an agent is held. */
export interface HoldReason {
  source: 'alert' | 'containment' | 'manual';
  reason: string;
  at: number;
  alertId?: string;
}

/** An approval hold on an agent: its consequential actions need approval until `until`. */
export interface HoldRecord {
  agent: string;
  until: number;
  reasons: HoldReason[];
}

const MAX_REASONS = 20;

interface Announcement {
  collection: typeof QUARANTINE_COLLECTION | typeof HOLD_COLLECTION;
  id: string;
}

/**
 * Quarantine and approval holds, in memory for the hot path (two map lookups, skipped when both are empty)
 * and in the store for other replicas and restarts. A change takes effect here at once, before it is stored.
 */
export class Holds {
  private readonly store: Store;
  private readonly now: () => number;
  private readonly quarantined = new Map<string, QuarantineRecord>();
  private readonly holds = new Map<string, HoldRecord>();
  private readonly listeners = new Set<(agent: string, record: QuarantineRecord, engaged: boolean) => void>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly onError: (error: unknown) => void;

  constructor(store: Store, now: () => number, onError: (error: unknown) => void) {
    this.store = store;
    this.now = now;
    this.onError = onError;
  }

  /** Loads state from the store and follows other replicas' changes. */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(QUARANTINE_CHANNEL, (message) => {
      const m = message as Partial<Announcement> | null;
      if (!m || typeof m.id !== 'string') return;
      if (m.collection === QUARANTINE_COLLECTION) this.refreshQuarantine(m.id).catch(this.onError);
      else if (m.collection === HOLD_COLLECTION) this.refreshHold(m.id).catch(this.onError);
    });
    for (const d of await this.store.listDocs<QuarantineRecord>(QUARANTINE_COLLECTION))
      this.quarantined.set(d.id, d.body);
    const now = this.now();
    for (const d of await this.store.listDocs<HoldRecord>(HOLD_COLLECTION))
      if (d.body.until > now) this.holds.set(d.id, d.body);
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** True when nothing is quarantined or held: the stage's fast path. */
  get empty(): boolean {
    return this.quarantined.size === 0 && this.holds.size === 0;
  }

  quarantineOf(agent: string): QuarantineRecord | undefined {
    return this.quarantined.get(agent);
  }

  /** The agent's hold if it is still in force. */
  holdOf(agent: string, now = this.now()): HoldRecord | undefined {
    const h = this.holds.get(agent);
    if (h === undefined) return undefined;
    if (h.until <= now) {
      this.holds.delete(agent);
      return undefined;
    }
    return h;
  }

  listQuarantined(): QuarantineRecord[] {
    return [...this.quarantined.values()];
  }

  listHolds(): HoldRecord[] {
    const now = this.now();
    return [...this.holds.values()].filter((h) => h.until > now);
  }

  /** Called when an agent is quarantined or released (here or on another replica). */
  onQuarantine(listener: (agent: string, record: QuarantineRecord, engaged: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Quarantines an agent: effective here at once; resolves once stored and announced. */
  async quarantine(record: QuarantineRecord): Promise<void> {
    this.applyQuarantine(record.agent, record);
    await this.store.putDoc(QUARANTINE_COLLECTION, record.agent, record);
    await this.announce({ collection: QUARANTINE_COLLECTION, id: record.agent });
  }

  /** Lifts a quarantine; resolves the record that was lifted, if any. */
  async release(agent: string): Promise<QuarantineRecord | undefined> {
    const current =
      this.quarantined.get(agent) ??
      (await this.store.getDoc<QuarantineRecord>(QUARANTINE_COLLECTION, agent))?.body;
    this.applyQuarantine(agent, undefined);
    await this.store.deleteDoc(QUARANTINE_COLLECTION, agent);
    await this.announce({ collection: QUARANTINE_COLLECTION, id: agent });
    return current;
  }

  /** Holds an agent (its consequential actions need approval) until `until`; extends an existing hold. */
  async hold(agent: string, until: number, why: HoldReason): Promise<void> {
    const merged = this.mergeHold(this.holdOf(agent), agent, until, why);
    this.holds.set(agent, merged);
    // Merge with what other replicas stored, so two replicas holding the same agent keep both reasons.
    let stored = false;
    for (let attempt = 0; attempt < 8 && !stored; attempt++) {
      const doc = await this.store.getDoc<HoldRecord>(HOLD_COLLECTION, agent);
      const base = doc && doc.body.until > this.now() ? doc.body : undefined;
      const body = base ? this.mergeHold(base, agent, merged.until, why) : merged;
      stored = await this.store.putDoc(HOLD_COLLECTION, agent, body, doc?.version ?? 0);
      if (stored) this.holds.set(agent, body);
    }
    // The hold is in force here either way; only other replicas would miss it.
    if (!stored)
      throw new Error(
        `the hold on ${agent} could not be stored: the record kept changing under concurrent writers`,
      );
    await this.announce({ collection: HOLD_COLLECTION, id: agent });
  }

  /** Lifts a hold, or (with `alertId`) only the part of it that alert caused. */
  async releaseHold(agent: string, alertId?: string): Promise<boolean> {
    const current =
      this.holds.get(agent) ?? (await this.store.getDoc<HoldRecord>(HOLD_COLLECTION, agent))?.body;
    if (!current) return false;
    const rest = alertId === undefined ? [] : current.reasons.filter((r) => r.alertId !== alertId);
    if (rest.length === current.reasons.length && alertId !== undefined) return false;
    if (rest.length === 0) {
      this.holds.delete(agent);
      await this.store.deleteDoc(HOLD_COLLECTION, agent);
    } else {
      const body: HoldRecord = { ...current, reasons: rest };
      this.holds.set(agent, body);
      await this.store.putDoc(HOLD_COLLECTION, agent, body);
    }
    await this.announce({ collection: HOLD_COLLECTION, id: agent });
    return true;
  }

  private mergeHold(base: HoldRecord | undefined, agent: string, until: number, why: HoldReason): HoldRecord {
    if (!base) return { agent, until, reasons: [why] };
    const reasons = [...base.reasons, why].slice(-MAX_REASONS);
    return { agent, until: Math.max(base.until, until), reasons };
  }

  private async announce(a: Announcement): Promise<void> {
    await this.store.publish(QUARANTINE_CHANNEL, a);
  }

  private async refreshQuarantine(agent: string): Promise<void> {
    const doc = await this.store.getDoc<QuarantineRecord>(QUARANTINE_COLLECTION, agent);
    this.applyQuarantine(agent, doc?.body);
  }

  private async refreshHold(agent: string): Promise<void> {
    const doc = await this.store.getDoc<HoldRecord>(HOLD_COLLECTION, agent);
    if (doc && doc.body.until > this.now()) this.holds.set(agent, doc.body);
    else this.holds.delete(agent);
  }

  private applyQuarantine(agent: string, record: QuarantineRecord | undefined): void {
    const had = this.quarantined.get(agent);
    if (record) this.quarantined.set(agent, record);
    else this.quarantined.delete(agent);
    const changed = record ? had === undefined : had !== undefined;
    if (!changed) return;
    const r = record ?? had;
    if (!r) return;
    for (const l of this.listeners) {
      try {
        l(agent, r, record !== undefined);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
