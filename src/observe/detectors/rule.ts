import type { MatcherConfig } from '../../config/sections/observe.js';
import type { Decision, EventKind } from '../../core/types.js';
import type { StageContext } from '../../pipeline/stage.js';
import type { AlertInput, EvidenceEvent } from '../alerts/alert.js';

/** What a rule reports; the engine adds the rule id, severity, actions, key and time. */
export type Finding = Omit<AlertInput, 'rule' | 'severity' | 'actions' | 'key' | 'ts'>;

/**
 * How a rule reports a finding. `key` says what the finding is about (an agent, a session, a session and a
 * tool...); a key that alerted within the cooldown is skipped before `build` runs, so a sustained pattern
 * costs a map lookup per event instead of a new alert body.
 */
export type Emit = (key: string, ts: number, build: () => Finding) => void;

/** Limits every rule's state honours. */
export interface RuleLimits {
  /** Keys (sessions, agents, identities) a rule remembers. */
  maxKeys: number;
  /** Events a key keeps per window. */
  maxEvents: number;
  /**
   * Redacts an argument value before it appears in an alert message (the ledger's key- and pattern-based
   * redaction; a message is text, so an argument named `password` would otherwise not be recognised).
   */
  redactArg?: (name: string, value: string) => string;
}

/**
 * One detector. `observe` runs inside `onDecision`: it must be synchronous and O(1) amortised per event;
 * anything heavier goes in `sweep`, which the engine runs off the decision path.
 */
export interface DetectorRule {
  readonly id: string;
  /** Event kinds the rule looks at. */
  readonly kinds: readonly EventKind[];
  observe(ctx: StageContext, decision: Decision, emit: Emit): void;
  sweep?(now: number, emit: Emit): void;
  /** Keys and events held, to show memory stays bounded. */
  size(): { keys: number; events: number };
}

/** A compiled matcher. */
export type Matcher = (ctx: StageContext) => boolean;

/** Tool name of a tool event, or undefined. */
export function toolNameOf(ctx: StageContext): string | undefined {
  const e = ctx.event;
  return e.kind === 'tool.call' || e.kind === 'tool.result' ? e.call.tool : undefined;
}

/** Compiles a matcher; `defaultKinds` applies when the matcher does not name kinds. */
export function compileMatcher(
  m: MatcherConfig | undefined,
  defaultKinds: readonly EventKind[] = ['tool.call'],
): { kinds: EventKind[]; test: Matcher } {
  const kinds = [...(m?.kinds ?? defaultKinds)];
  const tools = m?.tools ? new Set(m.tools) : undefined;
  const classes = m?.classes ? new Set<string>(m.classes) : undefined;
  const sources = m?.sources ? new Set(m.sources) : undefined;
  const outbound = m?.outbound;
  const sensitive = m?.sensitive;
  const kindSet = new Set<string>(kinds);
  if (!tools && !classes && !sources && outbound === undefined && sensitive === undefined) {
    return { kinds, test: (ctx) => kindSet.has(ctx.event.kind) };
  }
  return {
    kinds,
    test(ctx) {
      const e = ctx.event;
      if (!kindSet.has(e.kind)) return false;
      if (e.kind === 'ingest') {
        if (sources && !sources.has(e.content.source)) return false;
        return !tools && !classes && outbound === undefined && sensitive === undefined;
      }
      const name = toolNameOf(ctx);
      if (name === undefined)
        return !tools && !classes && !sources && outbound === undefined && sensitive === undefined;
      if (sources) return false;
      if (tools && !tools.has(name)) return false;
      const t = ctx.tool;
      if (classes && (!t || !classes.has(t.class))) return false;
      if (outbound !== undefined && (t?.outbound ?? false) !== outbound) return false;
      if (sensitive !== undefined && (t?.sensitive ?? false) !== sensitive) return false;
      return true;
    },
  };
}

/** The evidence record of the current event. */
export function evidenceOf(ctx: StageContext, decision: Decision): EvidenceEvent {
  const ev: EvidenceEvent = {
    eventId: ctx.eventId,
    ts: ctx.now,
    kind: ctx.event.kind,
    session: ctx.event.actor.session,
    verdict: decision.verdict,
  };
  const tool = toolNameOf(ctx);
  if (tool !== undefined) ev.tool = tool;
  return ev;
}

/**
 * A fixed-size ring of recent events per key: times, ids and sessions in parallel arrays so that pushing
 * an event allocates nothing.
 */
export class EventRing {
  readonly times: Float64Array;
  readonly ids: (string | undefined)[];
  readonly sessions: (string | undefined)[];
  /** Index of the next write. */
  head = 0;
  /** Events held (at most the capacity). */
  count = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.ids = new Array<string | undefined>(capacity);
    this.sessions = new Array<string | undefined>(capacity);
  }

  get capacity(): number {
    return this.times.length;
  }

  push(ts: number, id: string, session: string): void {
    this.times[this.head] = ts;
    this.ids[this.head] = id;
    this.sessions[this.head] = session;
    this.head = (this.head + 1) % this.times.length;
    if (this.count < this.times.length) this.count++;
  }

  /** Time of the oldest event held. */
  oldest(): number {
    const i = (this.head - this.count + this.times.length) % this.times.length;
    return this.times[i] ?? 0;
  }

  /** Events at or after `since`, oldest first. */
  since(since: number, kind: string, tool: string | undefined): EvidenceEvent[] {
    const out: EvidenceEvent[] = [];
    const cap = this.times.length;
    for (let k = this.count; k >= 1; k--) {
      const i = (this.head - k + cap) % cap;
      const ts = this.times[i] ?? 0;
      if (ts < since) continue;
      const ev: EvidenceEvent = { eventId: this.ids[i] ?? '', ts, kind, session: this.sessions[i] ?? '' };
      if (tool !== undefined) ev.tool = tool;
      out.push(ev);
    }
    return out;
  }
}
