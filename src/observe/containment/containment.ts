import type { Decision } from '../../core/types.js';
import type { Runtime } from '../../pipeline/runtime.js';
import type { StageContext } from '../../pipeline/stage.js';
import { BoundedMap } from '../bounded-map.js';
import type { Holds } from '../quarantine/holds.js';

/** Ledger record type of a containment (the blast path). */
export const CONTAINMENT_RECORD = 'containment';

/** One time an agent took in another agent's output. */
export interface Consumption {
  consumer: string;
  session: string;
  eventId: string;
  ts: number;
  via: 'message' | 'memory';
  /** Memory namespace/key, for memory. */
  ref?: string;
}

/** One contained consumer in a containment record. */
export interface ContainedConsumer {
  agent: string;
  /** Hops from the compromised agent (1 = took its output directly). */
  depth: number;
  /** Whose output it took. */
  from: string;
  sessions: string[];
  events: string[];
  /** Sessions in this process whose taint was raised to 3. */
  taintRaised: string[];
}

/** The body of a `containment` ledger record. */
export interface ContainmentReport {
  compromised: string;
  trigger: 'quarantine' | 'kill';
  reason: string;
  windowSeconds: number;
  consumers: ContainedConsumer[];
  at: number;
}

/** Options of containment. */
export interface ContainmentOptions {
  windowMs: number;
  maxDepth: number;
  holdMs: number;
  maxTrackedPerAgent: number;
  maxAgents: number;
  onError: (error: unknown) => void;
}

interface Written {
  agent: string;
  ts: number;
  eventId: string;
}

const MAX_LIST = 100;

/**
 * Cascade containment (ASI08). It tracks, within a window, who consumed each agent's output: messages it
 * sent and memory it wrote that others read. When an agent is quarantined or killed, its consumers (and, up to
 * `maxDepth` hops, theirs) are contained: their sessions here are tainted to tier 3, they are put on an
 * approval hold (shared through the store), and a `containment` ledger record shows the blast path.
 */
export class Containment {
  private readonly runtime: Runtime;
  private readonly holds: Holds;
  private readonly options: ContainmentOptions;
  private readonly consumed: BoundedMap<string, Consumption[]>;
  private readonly writers: BoundedMap<string, Written>;
  private readonly recent = new Map<string, number>();

  constructor(runtime: Runtime, holds: Holds, options: ContainmentOptions) {
    this.runtime = runtime;
    this.holds = holds;
    this.options = options;
    this.consumed = new BoundedMap(options.maxAgents);
    this.writers = new BoundedMap(options.maxAgents * 8);
  }

  /** Tracks message deliveries and memory writes/reads. O(1) amortised. */
  observe(ctx: StageContext, decision: Decision, distrusted: (agent: string) => boolean): void {
    const e = ctx.event;
    if (decision.verdict !== 'allow') return;
    if (e.kind === 'message') {
      this.track(e.message.from, {
        consumer: e.actor.agent,
        session: e.actor.session,
        eventId: ctx.eventId,
        ts: ctx.now,
        via: 'message',
      });
    } else if (e.kind === 'memory.write') {
      this.writers.set(`${e.memory.namespace}\u0000${e.memory.key}`, {
        agent: e.actor.agent,
        ts: ctx.now,
        eventId: ctx.eventId,
      });
    } else if (e.kind === 'memory.read') {
      const w = this.writers.peek(`${e.memory.namespace}\u0000${e.memory.key}`);
      if (!w || w.agent === e.actor.agent || ctx.now - w.ts > this.options.windowMs) return;
      this.track(w.agent, {
        consumer: e.actor.agent,
        session: e.actor.session,
        eventId: ctx.eventId,
        ts: ctx.now,
        via: 'memory',
        ref: `${e.memory.namespace}/${e.memory.key}`,
      });
      // Reading what a compromised agent wrote taints the reader at once.
      if (distrusted(w.agent)) ctx.session.taint = 3;
    }
  }

  /** Consumptions of an agent's output inside the window, oldest first. */
  consumersOf(agent: string, now: number): Consumption[] {
    const list = this.consumed.peek(agent);
    if (!list) return [];
    return list.filter((c) => now - c.ts <= this.options.windowMs);
  }

  /**
   * Contains the output of a compromised agent. Resolves the report (also written to the ledger when there is
   * anyone to contain). Repeated triggers for the same agent within a second are one containment.
   */
  async contain(
    agent: string,
    trigger: 'quarantine' | 'kill',
    why: string,
  ): Promise<ContainmentReport | undefined> {
    const now = this.runtime.clock.now();
    const last = this.recent.get(agent);
    if (last !== undefined && now - last < 1_000) return undefined;
    this.recent.set(agent, now);
    if (this.recent.size > 10_000) this.recent.clear();

    const consumers = new Map<string, ContainedConsumer>();
    let frontier: { agent: string; since: number }[] = [{ agent, since: now - this.options.windowMs }];
    const visited = new Set([agent]);
    for (let depth = 1; depth <= this.options.maxDepth && frontier.length > 0; depth++) {
      const next: { agent: string; since: number }[] = [];
      for (const f of frontier) {
        for (const c of this.consumersOf(f.agent, now)) {
          if (c.ts < f.since || visited.has(c.consumer)) continue;
          let entry = consumers.get(c.consumer);
          if (!entry) {
            entry = { agent: c.consumer, depth, from: f.agent, sessions: [], events: [], taintRaised: [] };
            consumers.set(c.consumer, entry);
            // What the consumer produced after it took the tainted output is suspect in turn.
            next.push({ agent: c.consumer, since: c.ts });
          }
          if (!entry.sessions.includes(c.session) && entry.sessions.length < MAX_LIST)
            entry.sessions.push(c.session);
          if (entry.events.length < MAX_LIST) entry.events.push(c.eventId);
        }
      }
      for (const n of next) visited.add(n.agent);
      frontier = next;
    }

    const stored: Promise<void>[] = [];
    for (const c of consumers.values()) {
      for (const sid of c.sessions) {
        const s = this.runtime.sessions.get(sid);
        if (s && s.actor.agent === c.agent) {
          s.taint = 3;
          c.taintRaised.push(sid);
        }
      }
      // `hold` takes effect here synchronously; storing it for other replicas happens in parallel.
      stored.push(
        this.holds
          .hold(c.agent, now + this.options.holdMs, {
            source: 'containment',
            reason: `consumed output of ${agent} (${trigger}: ${why})`,
            at: now,
          })
          .catch(this.options.onError),
      );
    }
    await Promise.all(stored);
    const report: ContainmentReport = {
      compromised: agent,
      trigger,
      reason: why,
      windowSeconds: Math.round(this.options.windowMs / 1000),
      consumers: [...consumers.values()],
      at: now,
    };
    if (report.consumers.length > 0) await this.runtime.audit(CONTAINMENT_RECORD, { agent, data: report });
    return report;
  }

  private track(producer: string, c: Consumption): void {
    let list = this.consumed.get(producer);
    if (!list) {
      list = [];
      this.consumed.set(producer, list);
    }
    list.push(c);
    // Trim in chunks so the cost stays O(1) amortised.
    if (list.length >= this.options.maxTrackedPerAgent * 2)
      list.splice(0, list.length - this.options.maxTrackedPerAgent);
  }
}
