import type { Store } from '../store/store.js';

/** What a kill switch covers. */
export type KillScope = 'global' | 'agent' | 'session';

/** An engaged kill switch as stored. */
export interface KillSwitch {
  scope: KillScope;
  /** Agent or session id; `*` for global. */
  target: string;
  reason: string;
  by: string;
  engagedAt: number;
}

/** Collection and pub/sub channel kill switches use in the store. */
export const KILL_COLLECTION = 'kill_switches';
/** Channel on which engage and release are announced to other replicas. */
export const KILL_CHANNEL = 'warden_kill';

function keyOf(scope: KillScope, target: string): string {
  return scope === 'global' ? 'global:*' : `${scope}:${target}`;
}

/**
 * The engaged kill switches, held in memory so the hot path checks them with map lookups, and kept in
 * step with the store (and so with other replicas) through its pub/sub channel.
 */
export class KillSwitches {
  private readonly engaged = new Map<string, KillSwitch>();
  private readonly listeners = new Set<(sw: KillSwitch, engaged: boolean) => void>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** Loads engaged switches from the store and subscribes to changes from other replicas. */
  async start(): Promise<void> {
    this.unsubscribe = await this.store.subscribe(KILL_CHANNEL, (message) => {
      const m = message as { engaged?: boolean; sw?: KillSwitch } | null;
      if (m?.sw && typeof m.engaged === 'boolean') this.apply(m.sw, m.engaged);
    });
    for (const doc of await this.store.listDocs<KillSwitch>(KILL_COLLECTION)) this.apply(doc.body, true);
  }

  /** The switch that covers this agent and session, if any; global first. */
  check(agent: string, session: string): KillSwitch | undefined {
    if (this.engaged.size === 0) return undefined;
    return (
      this.engaged.get('global:*') ??
      this.engaged.get(`agent:${agent}`) ??
      this.engaged.get(`session:${session}`)
    );
  }

  /** Every engaged switch. */
  list(): KillSwitch[] {
    return [...this.engaged.values()];
  }

  /** Engages a switch: durable in the store first, then effective here, then announced to replicas. */
  async engage(sw: Omit<KillSwitch, 'engagedAt'> & { engagedAt?: number }): Promise<KillSwitch> {
    const full: KillSwitch = {
      ...sw,
      target: sw.scope === 'global' ? '*' : sw.target,
      engagedAt: sw.engagedAt ?? Date.now(),
    };
    // Effective locally at once, even if the store is down: stopping must never wait on storage.
    this.apply(full, true);
    await this.store.putDoc(KILL_COLLECTION, keyOf(full.scope, full.target), full);
    await this.store.publish(KILL_CHANNEL, { engaged: true, sw: full });
    return full;
  }

  /** Releases a switch. Resolves whether one was engaged. */
  async release(scope: KillScope, target: string): Promise<KillSwitch | undefined> {
    const key = keyOf(scope, target);
    const current =
      this.engaged.get(key) ?? (await this.store.getDoc<KillSwitch>(KILL_COLLECTION, key))?.body;
    await this.store.deleteDoc(KILL_COLLECTION, key);
    if (!current) return undefined;
    this.apply(current, false);
    await this.store.publish(KILL_CHANNEL, { engaged: false, sw: current });
    return current;
  }

  /** Called on every engage or release seen (local or remote). Returns an unsubscribe function. */
  onChange(listener: (sw: KillSwitch, engaged: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops listening to the store. */
  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private apply(sw: KillSwitch, engaged: boolean): void {
    const key = keyOf(sw.scope, sw.target);
    const had = this.engaged.has(key);
    if (engaged) this.engaged.set(key, sw);
    else this.engaged.delete(key);
    if (had !== engaged) {
      for (const l of this.listeners) {
        try {
          l(sw, engaged);
        } catch {
          // A listener's failure must not stop a kill switch from taking effect.
        }
      }
    }
  }
}
