import type { Policy } from '../../config/policy.js';
import type { Decision } from '../../core/types.js';
import type { StageContext } from '../../pipeline/stage.js';
import type { Store } from '../../store/store.js';
import type { Alert } from '../alerts/alert.js';
import { publicKeyFingerprint } from '../messages/keys.js';

/** Store collection of the agent inventory (doc id = agent id). */
export const INVENTORY_COLLECTION = 'inventory';

/** One agent in the inventory, as stored. */
export interface InventoryRecord {
  id: string;
  /** Declared in warden.yaml. */
  configured: boolean;
  /** Seen in traffic without being configured. */
  shadow: boolean;
  owner: string | null;
  /** Configured phase (the effective one may differ: see the maturity service). */
  phase: string | null;
  description: string | null;
  identity: { publicKeyFingerprint: string | null };
  firstSeen: number | null;
  lastSeen: number | null;
  /** Events decided for the agent, and how many were not allowed. */
  events: number;
  refused: number;
  tools: Record<string, { calls: number; lastUsed: number }>;
  /** Agents it exchanged verified messages with. */
  peers: Record<string, { sent: number; received: number; lastAt: number }>;
  openAlerts: number;
  lastAlert: { id: string; rule: string; severity: string; ts: number } | null;
  updatedAt: number;
}

interface Delta {
  firstSeen: number;
  lastSeen: number;
  events: number;
  refused: number;
  tools: Map<string, { calls: number; lastUsed: number }>;
  peers: Map<string, { sent: number; received: number; lastAt: number }>;
  openAlerts: number;
  lastAlert: InventoryRecord['lastAlert'];
  shadow: boolean;
}

/** Options of the inventory. */
export interface InventoryOptions {
  flushMs: number;
  maxAgents: number;
  maxToolsPerAgent: number;
  maxPeersPerAgent: number;
  /** The effective phase, when the maturity service runs. */
  phaseOf?: (agent: string) => string | undefined;
  onError: (error: unknown) => void;
}

function emptyRecord(id: string): InventoryRecord {
  return {
    id,
    configured: false,
    shadow: false,
    owner: null,
    phase: null,
    description: null,
    identity: { publicKeyFingerprint: null },
    firstSeen: null,
    lastSeen: null,
    events: 0,
    refused: 0,
    tools: {},
    peers: {},
    openAlerts: 0,
    lastAlert: null,
    updatedAt: 0,
  };
}

function capRecord<T>(rec: Record<string, T>, max: number, lastOf: (v: T) => number): Record<string, T> {
  const keys = Object.keys(rec);
  if (keys.length <= max) return rec;
  const kept = keys.sort((a, b) => lastOf(rec[b] as T) - lastOf(rec[a] as T)).slice(0, max);
  return Object.fromEntries(kept.map((k) => [k, rec[k] as T]));
}

/**
 * The agent inventory: every agent configured or seen in traffic, with owner, phase, identity, first and last
 * seen, tools used, peers and open alerts. Decisions update small in-memory deltas (a map lookup and a few
 * increments); a timer merges them into the `inventory` collection in batches, with compare-and-set so
 * replicas sharing a store add up instead of overwriting each other.
 */
export class Inventory {
  private readonly store: Store;
  private readonly policy: Policy;
  private readonly options: InventoryOptions;
  private deltas = new Map<string, Delta>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Deltas dropped because too many distinct agents appeared between two flushes. */
  dropped = 0;

  constructor(store: Store, policy: Policy, options: InventoryOptions) {
    this.store = store;
    this.policy = policy;
    this.options = options;
  }

  /** Writes configured agents whose record is missing or stale, and returns every stored record. */
  async start(now: number): Promise<InventoryRecord[]> {
    const docs = await this.store.listDocs<InventoryRecord>(INVENTORY_COLLECTION);
    const byId = new Map(docs.map((d) => [d.id, d]));
    for (const a of this.policy.allAgents()) {
      const doc = byId.get(a.id);
      const fingerprint = a.publicKey ? safeFingerprint(a.publicKey) : null;
      const cur = doc?.body;
      if (
        cur?.configured &&
        cur.owner === a.owner &&
        cur.phase === a.phase &&
        cur.description === a.description &&
        cur.identity.publicKeyFingerprint === fingerprint
      ) {
        continue;
      }
      await this.mergeInto(a.id, (r) => {
        r.configured = true;
        r.shadow = false;
        r.owner = a.owner;
        r.phase = a.phase;
        r.description = a.description;
        r.identity = { publicKeyFingerprint: fingerprint };
        r.updatedAt = now;
      });
    }
    this.timer = setInterval(() => {
      this.flush().catch(this.options.onError);
    }, this.options.flushMs);
    this.timer.unref();
    return (await this.store.listDocs<InventoryRecord>(INVENTORY_COLLECTION)).map((d) => d.body);
  }

  /** Records one decided event. O(1); nothing is written here. */
  observe(ctx: StageContext, decision: Decision): void {
    const e = ctx.event;
    const d = this.delta(e.actor.agent, ctx.now);
    if (!d) return;
    d.events++;
    if (decision.verdict !== 'allow') d.refused++;
    if (!ctx.agent) d.shadow = true;
    if (e.kind === 'tool.call') {
      const t = d.tools.get(e.call.tool);
      if (t) {
        t.calls++;
        t.lastUsed = ctx.now;
      } else if (d.tools.size < this.options.maxToolsPerAgent) {
        d.tools.set(e.call.tool, { calls: 1, lastUsed: ctx.now });
      }
    } else if (e.kind === 'message' && decision.verdict === 'allow') {
      this.peer(d, e.message.from, 'received', ctx.now);
      const sender = this.delta(e.message.from, ctx.now, false);
      if (sender) this.peer(sender, e.actor.agent, 'sent', ctx.now);
    }
  }

  /** Counts a raised alert against its agent(s). */
  alertRaised(alert: Alert): void {
    const d = this.delta(alert.agent, alert.ts, false);
    if (!d) return;
    d.openAlerts++;
    d.lastAlert = { id: alert.id, rule: alert.rule, severity: alert.severity, ts: alert.ts };
  }

  /** Counts a closed alert. */
  alertClosed(agent: string, now: number): void {
    const d = this.delta(agent, now, false);
    if (d) d.openAlerts--;
  }

  /** Merges pending deltas into the store. Resolves when done; failed agents keep their deltas. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.deltas.size === 0) return Promise.resolve();
    const batch = this.deltas;
    this.deltas = new Map();
    const run = async () => {
      let firstError: Error | undefined;
      for (const [agent, d] of batch) {
        try {
          await this.mergeInto(agent, (r) => {
            this.apply(r, agent, d);
          });
        } catch (error) {
          firstError ??= error instanceof Error ? error : new Error(String(error));
          this.restore(agent, d);
        }
      }
      if (firstError !== undefined) throw firstError;
    };
    this.flushing = run().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private delta(agent: string, now: number, seen = true): Delta | undefined {
    let d = this.deltas.get(agent);
    if (!d) {
      if (this.deltas.size >= this.options.maxAgents) {
        this.dropped++;
        return undefined;
      }
      d = {
        firstSeen: seen ? now : Number.POSITIVE_INFINITY,
        lastSeen: seen ? now : 0,
        events: 0,
        refused: 0,
        tools: new Map(),
        peers: new Map(),
        openAlerts: 0,
        lastAlert: null,
        shadow: false,
      };
      this.deltas.set(agent, d);
      return d;
    }
    if (seen) {
      if (now > d.lastSeen) d.lastSeen = now;
      if (now < d.firstSeen) d.firstSeen = now;
    }
    return d;
  }

  private peer(d: Delta, other: string, dir: 'sent' | 'received', now: number): void {
    let p = d.peers.get(other);
    if (!p) {
      if (d.peers.size >= this.options.maxPeersPerAgent) return;
      d.peers.set(other, (p = { sent: 0, received: 0, lastAt: now }));
    }
    p[dir]++;
    p.lastAt = now;
  }

  private apply(r: InventoryRecord, agent: string, d: Delta): void {
    const cfg = this.policy.agent(agent);
    if (cfg) {
      r.configured = true;
      r.shadow = false;
      r.owner = cfg.owner;
      r.phase = this.options.phaseOf?.(agent) ?? cfg.phase;
      r.description = cfg.description;
    } else if (d.shadow) {
      r.shadow = true;
    }
    if (d.lastSeen > 0) {
      r.firstSeen = r.firstSeen === null ? d.firstSeen : Math.min(r.firstSeen, d.firstSeen);
      r.lastSeen = r.lastSeen === null ? d.lastSeen : Math.max(r.lastSeen, d.lastSeen);
    }
    r.events += d.events;
    r.refused += d.refused;
    for (const [tool, t] of d.tools) {
      const cur = r.tools[tool];
      r.tools[tool] = cur
        ? { calls: cur.calls + t.calls, lastUsed: Math.max(cur.lastUsed, t.lastUsed) }
        : { ...t };
    }
    r.tools = capRecord(r.tools, this.options.maxToolsPerAgent, (t) => t.lastUsed);
    for (const [peer, p] of d.peers) {
      const cur = r.peers[peer];
      r.peers[peer] = cur
        ? {
            sent: cur.sent + p.sent,
            received: cur.received + p.received,
            lastAt: Math.max(cur.lastAt, p.lastAt),
          }
        : { ...p };
    }
    r.peers = capRecord(r.peers, this.options.maxPeersPerAgent, (p) => p.lastAt);
    r.openAlerts = Math.max(0, r.openAlerts + d.openAlerts);
    if (d.lastAlert && (!r.lastAlert || d.lastAlert.ts >= r.lastAlert.ts)) r.lastAlert = d.lastAlert;
    r.updatedAt = Math.max(d.lastSeen, r.updatedAt, d.lastAlert?.ts ?? 0);
  }

  private restore(agent: string, d: Delta): void {
    // A failed write puts the delta back, merged with anything that arrived meanwhile.
    const cur = this.deltas.get(agent);
    if (!cur) {
      this.deltas.set(agent, d);
      return;
    }
    cur.firstSeen = Math.min(cur.firstSeen, d.firstSeen);
    cur.lastSeen = Math.max(cur.lastSeen, d.lastSeen);
    cur.events += d.events;
    cur.refused += d.refused;
    cur.openAlerts += d.openAlerts;
    cur.shadow ||= d.shadow;
    cur.lastAlert ??= d.lastAlert;
    for (const [k, t] of d.tools) {
      const c = cur.tools.get(k);
      if (c) c.calls += t.calls;
      else cur.tools.set(k, t);
    }
    for (const [k, p] of d.peers) {
      const c = cur.peers.get(k);
      if (c) {
        c.sent += p.sent;
        c.received += p.received;
      } else cur.peers.set(k, p);
    }
  }

  private async mergeInto(agent: string, change: (r: InventoryRecord) => void): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const doc = await this.store.getDoc<InventoryRecord>(INVENTORY_COLLECTION, agent);
      const r: InventoryRecord = doc ? structuredClone(doc.body) : emptyRecord(agent);
      change(r);
      if (await this.store.putDoc(INVENTORY_COLLECTION, agent, r, doc?.version ?? 0)) return;
    }
    throw new Error(`inventory record of ${agent} kept changing under concurrent writers`);
  }
}

function safeFingerprint(publicKey: string): string | null {
  try {
    return publicKeyFingerprint(publicKey);
  } catch {
    return null;
  }
}
