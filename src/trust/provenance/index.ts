import type { Tier } from '../../core/types.js';
import {
  cleanText,
  fullKey,
  isValueLike,
  MAX_KEY,
  numberKey,
  shapeOf,
  tokenize,
  urlKey,
  canonNumber,
  type TokenSink,
} from './normalise.js';

/** Where a value was seen, best first: a tier-1 message, an authoritative result, tier-2 content, tier-3 content. */
export type ProvenanceClass = 'tier1' | 'authoritative' | 'tier2' | 'tier3';

/** A lookup's answer: a class, `unverified` (seen nowhere in this session) or `trivial` (empty, boolean, null). */
export type Provenance = ProvenanceClass | 'unverified' | 'trivial';

/** Rank of a provenance, lower is more trusted. */
export const PROVENANCE_RANK: Readonly<Record<Provenance, number>> = {
  trivial: -1,
  tier1: 0,
  authoritative: 1,
  tier2: 2,
  tier3: 3,
  unverified: 4,
};

const CLASS_BITS: Readonly<Record<ProvenanceClass, number>> = {
  tier1: 1,
  authoritative: 2,
  tier2: 4,
  tier3: 8,
};
const CLASSES: readonly ProvenanceClass[] = ['tier1', 'authoritative', 'tier2', 'tier3'];
const CLASS_MASK = 15;
const PRIVATE_BIT = 16;
const SOURCE_SHIFT = 5;
/** Source descriptors kept per session; later events share the last slot ("and later sources"). */
const MAX_SOURCES = 4096;
/** Values longer than this are not identifiers: they are never found. */
export const MAX_LOOKUP_CHARS = 4096;
const MAX_DEPTH = 64;
const MAX_NODES = 200_000;

/** The event a value was seen in. Shown to approvers and in evidence. */
export interface SourceRef {
  kind: 'ingest' | 'result' | 'message';
  /** Source name (ingest), tool name (result) or sending agent (message). */
  name: string;
  /** Caller-supplied provenance (URL, document id), when given. */
  ref?: string;
  tier: Tier;
  /** Ledger id of the event. */
  eventId: string;
}

/** How one event's values are labelled. */
export interface Origin {
  /** Class of values not covered by a field rule. */
  cls: ProvenanceClass;
  private: boolean;
  source: SourceRef;
  /** Field rules for structured results: values under these keys or paths get this class instead. */
  fields?: readonly { path: readonly string[]; cls: ProvenanceClass }[];
  /** In authoritative values, a line of more than this many words is prose and counts as tier 2 (0: off). */
  proseWords?: number;
}

/** What indexing one event did. */
export interface IndexReport {
  /** Characters indexed. */
  chars: number;
  /** True when the event was larger than the budget (the rest was not indexed). */
  truncated: boolean;
  /** Lowest-trust class that any indexed value of the event got (for labelling results with untrusted fields). */
  worst: ProvenanceClass | undefined;
}

/** A value's provenance with the event it was seen in. */
export interface Match {
  provenance: Provenance;
  source?: SourceRef;
  private: boolean;
}

/**
 * A count-capped map from key to packed entry bits, evicting the oldest key first (Map iteration order is
 * insertion order). Seeing a key again merges its bits in place; it does not move it, so indexing repeated content
 * costs one read per key.
 */
class Capped {
  readonly map = new Map<string, number>();
  constructor(private readonly max: number) {}

  get(key: string): number | undefined {
    return this.map.get(key);
  }

  add(key: string, bits: number): void {
    const old = this.map.get(key);
    if (old === undefined) {
      this.map.set(key, bits);
      if (this.map.size > this.max) this.evict();
      return;
    }
    const oldMask = old & CLASS_MASK;
    const newMask = bits & CLASS_MASK;
    // Keep the source of the best class seen so far.
    const src = lowestBit(newMask) < lowestBit(oldMask) ? bits >>> SOURCE_SHIFT : old >>> SOURCE_SHIFT;
    const next = (oldMask | newMask | ((old | bits) & PRIVATE_BIT)) + src * (1 << SOURCE_SHIFT);
    if (next !== old) this.map.set(key, next);
  }

  /**
   * Drops the oldest eighth in one pass. Evicting one key per insert would restart iteration over the deleted
   * slots at the head of the map each time (quadratic); a batch keeps eviction amortised O(1) per key.
   */
  private evict(): void {
    const target = this.max - Math.max(1, this.max >>> 3);
    for (const k of this.map.keys()) {
      if (this.map.size <= target) break;
      this.map.delete(k);
    }
  }
}

function lowestBit(mask: number): number {
  for (let i = 0; i < 4; i++) if (mask & (1 << i)) return i;
  return 4;
}

function classOf(mask: number): ProvenanceClass | undefined {
  return CLASSES[lowestBit(mask)];
}

/** Options of an index. */
export interface IndexOptions {
  maxTrusted: number;
  maxUntrusted: number;
  maxCharsPerEvent: number;
}

/**
 * The values a session has seen, with where each came from. Tokens are normalised once, when content is observed,
 * into two count-capped maps (oldest key evicted first): one for tier-1 and authoritative values, one for tier-2 and
 * tier-3 values, so that a flood of untrusted text cannot evict what the user said. A lookup is a handful of map reads per argument.
 */
export class ProvenanceIndex {
  private readonly trusted: Capped;
  private readonly untrusted: Capped;
  private readonly sources: SourceRef[] = [];
  private readonly maxCharsPerEvent: number;

  constructor(options: IndexOptions) {
    this.trusted = new Capped(options.maxTrusted);
    this.untrusted = new Capped(options.maxUntrusted);
    this.maxCharsPerEvent = options.maxCharsPerEvent;
  }

  /** Keys held (trusted + untrusted). */
  get size(): number {
    return this.trusted.map.size + this.untrusted.map.size;
  }

  /** Indexes content (text or a structured value) seen by the session. Bounded in time and memory. */
  observe(content: unknown, origin: Origin): IndexReport {
    const src = this.sourceIndex(origin.source);
    const budget = {
      chars: this.maxCharsPerEvent,
      nodes: MAX_NODES,
      truncated: false,
      worst: undefined as ProvenanceClass | undefined,
    };
    const add = (cls: ProvenanceClass) => {
      const bits = CLASS_BITS[cls] | (origin.private ? PRIVATE_BIT : 0) | (src << SOURCE_SHIFT);
      const lru = cls === 'tier1' || cls === 'authoritative' ? this.trusted : this.untrusted;
      if (budget.worst === undefined || CLASS_BITS[cls] > CLASS_BITS[budget.worst]) budget.worst = cls;
      return (k: string) => {
        lru.add(k, bits);
      };
    };
    const sinks = new Map<ProvenanceClass, (k: string) => void>();
    const sinkFor = (cls: ProvenanceClass) => {
      let s = sinks.get(cls);
      if (!s) {
        s = add(cls);
        sinks.set(cls, s);
      }
      return s;
    };
    const fields = origin.fields ?? [];
    const classAt = (path: readonly string[]): ProvenanceClass => {
      for (const f of fields) if (endsWith(path, f.path)) return f.cls;
      return origin.cls;
    };

    const index = (clean: string, cls: ProvenanceClass) => {
      const put = sinkFor(cls);
      // Only short texts can be a whole value someone passes back as an argument.
      const whole = clean.length <= 4 * MAX_KEY ? fullKey(clean) : '';
      if (whole.length > 0 && whole.length <= MAX_KEY) {
        put(whole);
        const n = canonNumber(whole);
        if (n !== undefined && n !== whole) put(n);
        const u = whole.includes('://') ? urlKey(clean) : undefined;
        if (u !== undefined) put(u);
      }
      tokenize(clean, { key: put });
    };
    const prose = origin.proseWords ?? 0;
    const text = (s: string, cls: ProvenanceClass) => {
      if (budget.chars <= 0) {
        budget.truncated = true;
        return;
      }
      const slice = s.length > budget.chars ? s.slice(0, budget.chars) : s;
      if (slice.length < s.length) budget.truncated = true;
      budget.chars -= slice.length;
      const clean = cleanText(slice);
      if (cls !== 'authoritative' || prose <= 0 || wordCount(clean, prose) <= prose) {
        index(clean, cls);
        return;
      }
      // Authority covers records, not prose: a long line inside an authoritative result is tier-2 content.
      for (const line of clean.split('\n')) index(line, wordCount(line, prose) > prose ? 'tier2' : cls);
    };

    const walk = (v: unknown, path: string[], depth: number): void => {
      if (budget.nodes-- <= 0 || budget.chars <= 0) {
        budget.truncated = true;
        return;
      }
      if (v === null || v === undefined) return;
      switch (typeof v) {
        case 'string':
          text(v, classAt(path));
          return;
        case 'number':
        case 'bigint': {
          const k = numberKey(v);
          if (k !== undefined) sinkFor(classAt(path))(k);
          return;
        }
        case 'object': {
          if (depth >= MAX_DEPTH) {
            budget.truncated = true;
            return;
          }
          if (Array.isArray(v)) {
            for (const item of v) {
              walk(item, path, depth + 1);
              if (budget.truncated && budget.chars <= 0) return;
            }
            return;
          }
          if (v instanceof Date) {
            if (!Number.isNaN(v.getTime())) text(v.toISOString(), classAt(path));
            return;
          }
          if (v instanceof Uint8Array) return;
          for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
            // Keys carry data too (a map from hotel name to its rating): they take the class of where they sit.
            text(k, classAt(path));
            path.push(k);
            walk(child, path, depth + 1);
            path.pop();
            if (budget.chars <= 0) return;
          }
          return;
        }
        default:
          return;
      }
    };

    walk(typeof content === 'string' ? parseJsonish(content, this.maxCharsPerEvent) : content, [], 0);
    return {
      chars: this.maxCharsPerEvent - Math.max(0, budget.chars),
      truncated: budget.truncated,
      worst: budget.worst,
    };
  }

  /** Where a value (an argument) was seen. Strings, numbers and arrays of them; objects by their worst leaf. */
  lookup(value: unknown): Match {
    if (value === null || value === undefined || typeof value === 'boolean')
      return { provenance: 'trivial', private: false };
    if (typeof value === 'number' || typeof value === 'bigint') {
      const k = numberKey(value);
      return k === undefined ? { provenance: 'unverified', private: false } : this.key(k);
    }
    if (typeof value === 'string') return this.lookupString(value);
    if (Array.isArray(value) || typeof value === 'object') {
      let worst: Match = { provenance: 'trivial', private: false };
      let n = 0;
      for (const leaf of leaves(value, 0)) {
        if (++n > 256) return { provenance: 'unverified', private: false };
        const m = this.lookup(leaf);
        if (PROVENANCE_RANK[m.provenance] > PROVENANCE_RANK[worst.provenance]) worst = m;
      }
      return worst;
    }
    return { provenance: 'unverified', private: false };
  }

  /**
   * A string's provenance: the best of its whole value, its compounds and phrases (the worst of those parts), and
   * its squashed form. Stops at the first trusted answer (tier 1 or authoritative), so the usual case is one read.
   */
  lookupString(raw: string): Match {
    if (raw.length > MAX_LOOKUP_CHARS) return { provenance: 'unverified', private: false };
    const clean = cleanText(raw).trim();
    if (clean.length === 0) return { provenance: 'trivial', private: false };
    const full = fullKey(clean);
    let best = this.key(full);
    if (trusted(best)) return best;
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(clean) && !/\s/.test(clean)) {
      // A URL must match as a URL: pieces of other URLs do not make it.
      const u = urlKey(clean);
      return u === undefined ? best : better(best, this.key(u));
    }
    const n = canonNumber(full);
    if (n !== undefined) return better(best, this.key(n));
    const shape = shapeOf(clean);
    if (shape.parts.length > 0 && !(shape.parts.length === 1 && shape.parts[0] === full)) {
      let worst: Match | undefined;
      for (const p of shape.parts) {
        const m = this.key(p);
        if (worst === undefined || PROVENANCE_RANK[m.provenance] > PROVENANCE_RANK[worst.provenance])
          worst = m;
        if (m.provenance === 'unverified') break;
      }
      if (worst !== undefined) best = better(best, worst);
      if (trusted(best)) return best;
    }
    if (shape.squashed.length >= 6 && shape.squashed !== full) best = better(best, this.key(shape.squashed));
    return best;
  }

  /** A key's entry, trusted map first. */
  key(k: string): Match {
    const bits = this.trusted.get(k) ?? this.untrusted.get(k);
    if (bits === undefined) return { provenance: 'unverified', private: false };
    const cls = classOf(bits & CLASS_MASK) ?? 'tier3';
    const source = this.sources[bits >>> SOURCE_SHIFT];
    const m: Match = { provenance: cls, private: (bits & PRIVATE_BIT) !== 0 };
    if (source) m.source = source;
    return m;
  }

  /** True when the key was seen with the private flag (in either map). */
  isPrivateKey(k: string): boolean {
    const a = this.trusted.get(k);
    const b = this.untrusted.get(k);
    return ((a ?? 0) & PRIVATE_BIT) !== 0 || ((b ?? 0) & PRIVATE_BIT) !== 0;
  }

  /**
   * Does this piece of text (a URL parameter, a path segment) carry private session data? It does when the whole
   * piece, or a value-like token in it (an id, a number of 5+ characters, an email), or a run of `phraseWords`
   * words, was seen in private content.
   */
  carriesPrivate(piece: string, phraseWords: number): string | undefined {
    if (piece.length === 0) return undefined;
    const clean = cleanText(piece.length > MAX_LOOKUP_CHARS ? piece.slice(0, MAX_LOOKUP_CHARS) : piece);
    const full = fullKey(clean);
    if (this.isPrivateKey(full) && (isValueLike(full) || full.split(' ').length >= phraseWords))
      return 'value';
    const probe = new PrivateProbe(this, phraseWords);
    tokenize(clean, probe);
    return probe.hit;
  }

  private sourceIndex(source: SourceRef): number {
    if (this.sources.length < MAX_SOURCES) {
      this.sources.push(source);
      return this.sources.length - 1;
    }
    return MAX_SOURCES - 1;
  }
}

/** Looks for private data while a piece of text is tokenised. */
class PrivateProbe implements TokenSink {
  hit: string | undefined;
  constructor(
    private readonly index: ProvenanceIndex,
    private readonly phraseWords: number,
  ) {}

  key(k: string): void {
    if (this.hit === undefined && !k.includes(' ') && isValueLike(k) && this.index.isPrivateKey(k))
      this.hit = 'token';
  }

  phrase(words: readonly string[]): void {
    if (this.hit !== undefined || words.length < this.phraseWords) return;
    let run = 1;
    for (let i = 1; i < words.length; i++) {
      run = this.index.isPrivateKey(`${words[i - 1] ?? ''} ${words[i] ?? ''}`) ? run + 1 : 1;
      if (run >= this.phraseWords) {
        this.hit = 'phrase';
        return;
      }
    }
  }
}

/** Words in a text (runs of non-space), counting no further than `limit + 1`. */
function wordCount(text: string, limit: number): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
    if (!space && !inWord && ++n > limit) return n;
    inWord = !space;
  }
  return n;
}

function trusted(m: Match): boolean {
  return m.provenance === 'tier1' || m.provenance === 'authoritative';
}

function better(a: Match, b: Match): Match {
  return PROVENANCE_RANK[b.provenance] < PROVENANCE_RANK[a.provenance] ? b : a;
}

function endsWith(path: readonly string[], suffix: readonly string[]): boolean {
  if (suffix.length > path.length) return false;
  const off = path.length - suffix.length;
  for (let i = 0; i < suffix.length; i++) if (path[off + i] !== suffix[i]) return false;
  return true;
}

function* leaves(v: unknown, depth: number): Generator {
  if (depth > 16) return;
  if (Array.isArray(v)) {
    for (const x of v) yield* leaves(x, depth + 1);
  } else if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v as Record<string, unknown>)) yield* leaves(x, depth + 1);
  } else {
    yield v;
  }
}

/** A string result that is JSON becomes its value (so field rules apply); anything else stays text. */
export function parseJsonish(text: string, maxChars: number): unknown {
  const t = text.trimStart();
  if (t.length > maxChars || (t[0] !== '{' && t[0] !== '[')) return text;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return text;
  }
}
