import type { Actor, Tier } from '../core/types.js';

/**
 * Per-session state shared by stages. Each module keeps its own slot, keyed by a string it owns, so
 * modules never reach into each other's state.
 */
export class SessionState {
  readonly actor: Readonly<Actor>;
  /** Lowest-trust tier seen in the context since the last tier-1 turn (1 = clean). */
  taint: Tier = 1;
  /** Count of events decided in this session. */
  events = 0;
  readonly startedAt: number;
  private readonly slots = new Map<string, unknown>();
  /** Aborted when a kill switch covering this session engages. */
  readonly controller = new AbortController();

  constructor(actor: Actor, now: number) {
    this.actor = Object.freeze({ ...actor });
    this.startedAt = now;
  }

  /** The module's slot, created by `init` on first use. */
  slot<T>(key: string, init: () => T): T {
    let value = this.slots.get(key) as T | undefined;
    if (value === undefined) {
      value = init();
      this.slots.set(key, value);
    }
    return value;
  }

  /** The module's slot if it exists. */
  peek<T>(key: string): T | undefined {
    return this.slots.get(key) as T | undefined;
  }
}
