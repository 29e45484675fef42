/**
 * Sliding-window counters for grant rate limits and maturity caps.
 *
 * A window keeps a log of entries (time, weight, optional tag) younger than its length, with running
 * totals, so a check is O(1) amortised. An entry is added when a stage lets a call through (a
 * reservation, so concurrent decisions cannot overshoot) and released if the final decision is not
 * `allow`. Committed entries can be shared with other replicas (see `CounterSync`).
 */

/** One counted action. */
export interface WindowEntry {
  readonly ts: number;
  readonly weight: number;
  readonly tag: string | undefined;
  /** Released reservations stay in the log until pruned but no longer count. */
  dead: boolean;
  /** Set once the entry has left its window. */
  pruned?: boolean;
}

/** Totals of one window at one moment. */
export interface WindowUsage {
  /** Live entries. */
  count: number;
  /** Sum of live weights. */
  sum: number;
  /** Distinct live tags. */
  distinct: number;
}

class Window {
  readonly perMs: number;
  private log: WindowEntry[] = [];
  private head = 0;
  count = 0;
  sum = 0;
  readonly tags = new Map<string, number>();

  constructor(perMs: number) {
    this.perMs = perMs;
  }

  prune(now: number): void {
    const cutoff = now - this.perMs;
    while (this.head < this.log.length) {
      const e = this.log[this.head] as WindowEntry;
      if (e.ts > cutoff) break;
      this.head++;
      e.pruned = true;
      if (!e.dead) this.drop(e);
    }
    // Compact now and then so the log does not grow without bound.
    if (this.head > 1024 && this.head * 2 > this.log.length) {
      this.log = this.log.slice(this.head);
      this.head = 0;
    }
  }

  add(e: WindowEntry): void {
    this.log.push(e);
    this.count++;
    this.sum += e.weight;
    if (e.tag !== undefined) this.tags.set(e.tag, (this.tags.get(e.tag) ?? 0) + 1);
  }

  drop(e: WindowEntry): void {
    this.count--;
    this.sum -= e.weight;
    if (e.tag !== undefined) {
      const n = (this.tags.get(e.tag) ?? 1) - 1;
      if (n <= 0) this.tags.delete(e.tag);
      else this.tags.set(e.tag, n);
    }
  }

  release(e: WindowEntry): void {
    if (e.dead) return;
    e.dead = true;
    // An entry already pruned out of the window no longer counts; dropping it twice would go negative.
    if (e.pruned !== true) this.drop(e);
  }
}

/** A set of named sliding windows. Keys are stable across replicas (agent + grant or cap position). */
export class WindowCounters {
  private readonly windows = new Map<string, Window>();

  private window(key: string, perMs: number): Window {
    let w = this.windows.get(key);
    if (w === undefined || w.perMs !== perMs) {
      w = new Window(perMs);
      this.windows.set(key, w);
    }
    return w;
  }

  /** Usage of a window at `now`. */
  usage(key: string, perMs: number, now: number): WindowUsage {
    const w = this.windows.get(key);
    if (w === undefined || w.perMs !== perMs) return { count: 0, sum: 0, distinct: 0 };
    w.prune(now);
    return { count: w.count, sum: w.sum, distinct: w.tags.size };
  }

  /** Whether a tag is already counted in the window (a repeat does not widen the blast radius). */
  hasTag(key: string, perMs: number, now: number, tag: string): boolean {
    const w = this.windows.get(key);
    if (w === undefined || w.perMs !== perMs) return false;
    w.prune(now);
    return w.tags.has(tag);
  }

  /** Counts an action. Returns the entry so a reservation can be released. */
  add(key: string, perMs: number, ts: number, weight = 1, tag?: string): WindowEntry {
    const w = this.window(key, perMs);
    w.prune(ts);
    const e: WindowEntry = { ts, weight, tag, dead: false };
    w.add(e);
    return e;
  }

  /** Takes one unit if fewer than `limit` are in the window; undefined when the limit is reached. */
  tryAcquire(key: string, perMs: number, now: number, limit: number): WindowEntry | undefined {
    const w = this.window(key, perMs);
    w.prune(now);
    if (w.count >= limit) return undefined;
    const e: WindowEntry = { ts: now, weight: 1, tag: undefined, dead: false };
    w.add(e);
    return e;
  }

  /** Undoes a reservation. */
  release(key: string, entry: WindowEntry): void {
    this.windows.get(key)?.release(entry);
  }

  /** Forgets everything (tests). */
  clear(): void {
    this.windows.clear();
  }
}

/** A committed count, as shared between replicas. */
export interface CounterMessage {
  /** Origin replica, so a replica ignores its own messages. */
  o: string;
  k: string;
  p: number;
  t: number;
  w: number;
  g?: string;
}

/** Pub/sub channel on which committed counts are shared between replicas. */
export const COUNTER_CHANNEL = 'warden_counters';

/** Parses a counter message from another replica; undefined when it is malformed. */
export function parseCounterMessage(m: unknown): CounterMessage | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const x = m as Record<string, unknown>;
  if (
    typeof x.o !== 'string' ||
    typeof x.k !== 'string' ||
    typeof x.p !== 'number' ||
    typeof x.t !== 'number' ||
    typeof x.w !== 'number'
  )
    return undefined;
  if (!Number.isFinite(x.p) || !Number.isFinite(x.t) || !Number.isFinite(x.w) || x.p <= 0) return undefined;
  if (x.g !== undefined && typeof x.g !== 'string') return undefined;
  const out: CounterMessage = { o: x.o, k: x.k, p: x.p, t: x.t, w: x.w };
  if (typeof x.g === 'string') out.g = x.g;
  return out;
}
