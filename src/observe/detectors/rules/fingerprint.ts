import type { MatcherConfig } from '../../../config/sections/observe.js';
import type { StageContext } from '../../../pipeline/stage.js';
import type { EvidenceEvent } from '../../alerts/alert.js';
import { BoundedMap } from '../../bounded-map.js';
import { compileMatcher, toolNameOf, type DetectorRule, type Emit, type RuleLimits } from '../rule.js';

/** Options of a fingerprint rule. */
export interface FingerprintOptions {
  id: string;
  match?: MatcherConfig | undefined;
  by: 'user' | 'agent';
  n: number;
  minEvents: number;
  similarity: number;
  minIdentities: number;
  windowSeconds: number;
}

/** MinHash signature length and LSH banding: 8 bands of 4 rows find pairs above ~0.7 with high probability. */
const SIG = 32;
const BANDS = 8;
const ROWS = SIG / BANDS;
/** Identities fingerprinted per sweep, so one sweep never holds the event loop for long. */
const SWEEP_BUDGET = 2_000;
/** Members of one LSH bucket compared per identity. */
const BUCKET_CAP = 2_000;
const MAX_TOOL_IDS = 65_536;

const SEEDS = (() => {
  const s = new Uint32Array(SIG);
  let x = 0x9e3779b9;
  for (let i = 0; i < SIG; i++) {
    x = Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 0;
    s[i] = (x ^ (i * 0x27d4eb2d)) >>> 0;
  }
  return s;
})();

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Identity {
  key: string;
  agent: string;
  /** Tool ids of the last n - 1 events. */
  prev: number[];
  grams: Int32Array;
  times: Float64Array;
  head: number;
  count: number;
  lastSeen: number;
  /** The identity's latest event, for the evidence (fields, not an object, to allocate nothing per event). */
  lastEventId: string;
  lastSession: string;
  lastKind: string;
  lastTool: string | undefined;
  dirty: boolean;
  sig: Uint32Array | undefined;
  bands: string[] | undefined;
  flaggedUntil: number;
}

/**
 * Many identities with near-identical behaviour: the many-account extraction campaign (ASI03/ASI10). Per
 * identity (user or agent) the rule keeps the tool-sequence n-grams of its recent events, updated in O(n) per
 * event. Comparison is deferred to `sweep`: each changed identity gets a MinHash signature, LSH buckets find
 * candidates, and a group of at least `minIdentities` identities whose estimated Jaccard similarity is above
 * the threshold raises an alert.
 */
export function fingerprintRule(o: FingerprintOptions, limits: RuleLimits): DetectorRule {
  const { kinds, test } = compileMatcher(o.match, ['tool.call']);
  const windowMs = o.windowSeconds * 1000;
  const ringSize = Math.max(8, Math.min(limits.maxEvents, Math.max(64, o.minEvents * 2)));
  const toolIds = new Map<string, number>();
  const toolNames: string[] = [];
  const buckets = new Map<string, Set<Identity>>();
  let dirty: Identity[] = [];

  const unindex = (id: Identity) => {
    if (!id.bands) return;
    for (const b of id.bands) {
      const set = buckets.get(b);
      if (!set) continue;
      set.delete(id);
      if (set.size === 0) buckets.delete(b);
    }
    id.bands = undefined;
  };
  const identities = new BoundedMap<string, Identity>(limits.maxKeys, (_k, id) => {
    unindex(id);
    id.dirty = false;
  });

  function toolId(name: string): number {
    let id = toolIds.get(name);
    if (id !== undefined) return id;
    if (toolIds.size >= MAX_TOOL_IDS) {
      // Past the cap new names share ids by hash; similarity only gets coarser, memory stays bounded.
      let h = 0;
      for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
      return (h >>> 0) % MAX_TOOL_IDS;
    }
    id = toolIds.size;
    toolIds.set(name, id);
    toolNames.push(name);
    return id;
  }

  /** Forgets grams older than the window (the ring is in time order, oldest at the tail). */
  function expire(id: Identity, now: number): void {
    const cap = id.grams.length;
    while (id.count > 0) {
      const tail = (id.head - id.count + cap) % cap;
      if ((id.times[tail] ?? 0) >= now - windowMs) break;
      id.count--;
    }
  }

  /**
   * MinHash over the grams in the ring. Duplicates do not change a minimum, so the multiset needs no
   * de-duplication: the per-event path only writes the ring, and all the work is here, off the decision path.
   */
  function signature(id: Identity): Uint32Array {
    const sig = new Uint32Array(SIG).fill(0xffffffff);
    const cap = id.grams.length;
    for (let k = 0; k < id.count; k++) {
      const g = id.grams[(id.head - 1 - k + cap) % cap] ?? 0;
      for (let i = 0; i < SIG; i++) {
        const h = mix32((g ^ (SEEDS[i] ?? 0)) >>> 0);
        if (h < (sig[i] ?? 0)) sig[i] = h;
      }
    }
    return sig;
  }

  function bandKeys(sig: Uint32Array): string[] {
    const out: string[] = [];
    for (let b = 0; b < BANDS; b++) {
      let h = b + 1;
      for (let r = 0; r < ROWS; r++) h = mix32((h ^ (sig[b * ROWS + r] ?? 0)) >>> 0);
      out.push(`${b}:${h}`);
    }
    return out;
  }

  function similarity(a: Uint32Array, b: Uint32Array): number {
    let same = 0;
    for (let i = 0; i < SIG; i++) if (a[i] === b[i]) same++;
    return same / SIG;
  }

  function lastEvent(m: Identity): EvidenceEvent {
    const ev: EvidenceEvent = {
      eventId: m.lastEventId,
      ts: m.lastSeen,
      kind: m.lastKind,
      session: m.lastSession,
    };
    if (m.lastTool !== undefined) ev.tool = m.lastTool;
    return ev;
  }

  function decodeGrams(id: Identity, max: number): string[] {
    // Recover readable n-grams from the most recent events for the evidence.
    const out: string[] = [];
    const names = id.prev.map((t) => toolNames[t] ?? `#${t}`);
    if (names.length > 0) out.push(names.join(' > '));
    return out.slice(0, max);
  }

  return {
    id: o.id,
    kinds,
    observe(ctx: StageContext) {
      if (!test(ctx)) return;
      const actor = ctx.event.actor;
      const key = o.by === 'agent' ? actor.agent : (actor.user ?? `agent:${actor.agent}`);
      let id = identities.get(key);
      if (id === undefined) {
        id = {
          key,
          agent: actor.agent,
          prev: [],
          grams: new Int32Array(ringSize),
          times: new Float64Array(ringSize),
          head: 0,
          count: 0,
          lastSeen: 0,
          lastEventId: '',
          lastSession: '',
          lastKind: '',
          lastTool: undefined,
          dirty: false,
          sig: undefined,
          bands: undefined,
          flaggedUntil: 0,
        };
        identities.set(key, id);
      }
      const tool = toolNameOf(ctx);
      const t = toolId(tool ?? ctx.event.kind);
      id.agent = actor.agent;
      id.lastSeen = ctx.now;
      id.lastEventId = ctx.eventId;
      id.lastSession = actor.session;
      id.lastKind = ctx.event.kind;
      id.lastTool = tool;
      if (id.prev.length >= o.n - 1) {
        let h = 0x811c9dc5;
        for (const p of id.prev) h = Math.imul(h ^ p, 16777619);
        h = Math.imul(h ^ t, 16777619) | 0;
        // O(1): overwrite the oldest slot; expiry and comparison wait for the sweep.
        const cap = id.grams.length;
        id.grams[id.head] = h;
        id.times[id.head] = ctx.now;
        id.head = (id.head + 1) % cap;
        if (id.count < cap) id.count++;
        if (!id.dirty && id.count >= o.minEvents) {
          id.dirty = true;
          dirty.push(id);
        }
      }
      if (o.n > 1) {
        id.prev.push(t);
        if (id.prev.length > o.n - 1) id.prev.shift();
      }
    },
    sweep(now: number, emit: Emit) {
      if (dirty.length === 0) return;
      const batch = dirty.length > SWEEP_BUDGET ? dirty.slice(0, SWEEP_BUDGET) : dirty;
      dirty = dirty.length > SWEEP_BUDGET ? dirty.slice(SWEEP_BUDGET) : [];
      // First refresh every changed signature, then compare, so a group forming in one sweep is seen whole.
      const fresh: Identity[] = [];
      for (const id of batch) {
        id.dirty = false;
        if (identities.peek(id.key) !== id) continue;
        expire(id, now);
        unindex(id);
        if (id.count < o.minEvents || now - id.lastSeen > windowMs) {
          id.sig = undefined;
          continue;
        }
        id.sig = signature(id);
        id.bands = bandKeys(id.sig);
        for (const b of id.bands) {
          let set = buckets.get(b);
          if (!set) buckets.set(b, (set = new Set()));
          set.add(id);
        }
        fresh.push(id);
      }
      for (const id of fresh) {
        const sig = id.sig;
        if (!sig || !id.bands) continue;
        const group = new Set<Identity>([id]);
        for (const b of id.bands) {
          const set = buckets.get(b);
          if (!set) continue;
          let seen = 0;
          for (const other of set) {
            if (++seen > BUCKET_CAP) break;
            if (group.has(other) || !other.sig || now - other.lastSeen > windowMs) continue;
            if (similarity(sig, other.sig) >= o.similarity) group.add(other);
          }
        }
        if (group.size < o.minIdentities) continue;
        const members = [...group];
        if (!members.some((m) => m.flaggedUntil <= now)) continue;
        for (const m of members) m.flaggedUntil = now + windowMs;
        const agents = [...new Set(members.map((m) => m.agent))];
        emit(id.key, now, () => ({
          agent: id.agent,
          ...(agents.length > 1 ? { alsoAgents: agents.filter((a) => a !== id.agent) } : {}),
          message: `${members.length} ${o.by === 'agent' ? 'agents' : 'identities'} show near-identical tool sequences (similarity >= ${o.similarity}) within ${o.windowSeconds} s: a coordinated many-account pattern`,
          evidence: {
            events: members.slice(0, 50).map(lastEvent),
            identities: members.slice(0, 100).map((m) => m.key),
            identityCount: members.length,
            agents: agents.slice(0, 100),
            sample: decodeGrams(id, 5),
            similarity: o.similarity,
            by: o.by,
          },
        }));
      }
    },
    size() {
      let events = 0;
      for (const [, id] of identities) events += id.count;
      return { keys: identities.size, events };
    },
  };
}
