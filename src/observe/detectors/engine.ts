import type { AlertAction, DetectorRuleConfig, Severity } from '../../config/sections/observe.js';
import type { Decision, EventKind, Verdict } from '../../core/types.js';
import type { StageContext } from '../../pipeline/stage.js';
import type { AlertInput } from '../alerts/alert.js';
import { BoundedMap } from '../bounded-map.js';
import type { DetectorRule, Emit, RuleLimits } from './rule.js';
import { burstRule } from './rules/burst.js';
import { fingerprintRule } from './rules/fingerprint.js';
import { novelToolRule, type NovelToolRule } from './rules/novel-tool.js';
import { sensitiveOutboundRule } from './rules/sensitive-outbound.js';
import { sequenceRule } from './rules/sequence.js';
import { unverifiedTargetRule } from './rules/unverified-target.js';

/** A rule with its alert settings and filters, ready to run. */
export interface CompiledRule {
  readonly rule: DetectorRule;
  readonly severity: Severity;
  readonly actions: readonly AlertAction[];
  readonly agents: ReadonlySet<string> | undefined;
  readonly verdicts: ReadonlySet<Verdict>;
  readonly emit: Emit;
}

/** Per-type defaults: what each kind of rule means when the policy does not say. */
const DEFAULTS: Record<
  DetectorRuleConfig['type'],
  { severity: Severity; actions: AlertAction[]; verdicts: Verdict[] }
> = {
  burst: {
    severity: 'high',
    actions: ['record', 'notify', 'require-approval'],
    verdicts: ['allow', 'approve', 'deny'],
  },
  // A refused call did not happen: alerting on it again is noise (the refusing control recorded why).
  'unverified-target': {
    severity: 'high',
    actions: ['record', 'notify', 'require-approval'],
    verdicts: ['allow', 'approve'],
  },
  fingerprint: { severity: 'high', actions: ['record', 'notify'], verdicts: ['allow', 'approve', 'deny'] },
  'sensitive-outbound': { severity: 'high', actions: ['record', 'notify'], verdicts: ['allow', 'approve'] },
  'novel-tool': { severity: 'medium', actions: ['record'], verdicts: ['allow', 'approve', 'deny'] },
  sequence: { severity: 'medium', actions: ['record', 'notify'], verdicts: ['allow', 'approve'] },
};

/** Statistics of the engine, to show state stays bounded. */
export interface EngineStats {
  events: number;
  errors: number;
  rules: Record<string, { keys: number; events: number }>;
}

/** Builds the detector of one rule config. */
export function buildRule(cfg: DetectorRuleConfig, limits: RuleLimits): DetectorRule {
  switch (cfg.type) {
    case 'burst':
      return burstRule(
        {
          id: cfg.id,
          match: cfg.match,
          per: cfg.per,
          groupBy: cfg.groupBy,
          max: cfg.max,
          windowSeconds: cfg.windowSeconds,
        },
        limits,
      );
    case 'unverified-target':
      return unverifiedTargetRule(
        {
          id: cfg.id,
          match: cfg.match,
          identifiers: cfg.identifiers,
          trustUserInput: cfg.trustUserInput,
          maxValuesPerSession: cfg.maxValuesPerSession,
        },
        limits,
      );
    case 'fingerprint':
      return fingerprintRule(
        {
          id: cfg.id,
          match: cfg.match,
          by: cfg.by,
          n: cfg.n,
          minEvents: cfg.minEvents,
          similarity: cfg.similarity,
          minIdentities: cfg.minIdentities,
          windowSeconds: cfg.windowSeconds,
        },
        limits,
      );
    case 'sensitive-outbound':
      return sensitiveOutboundRule(
        {
          id: cfg.id,
          sensitiveTools: cfg.sensitiveTools,
          sensitiveSources: cfg.sensitiveSources,
          tiers: cfg.tiers,
          outboundTools: cfg.outboundTools,
          windowSeconds: cfg.windowSeconds,
        },
        limits,
      );
    case 'novel-tool':
      return novelToolRule(
        {
          id: cfg.id,
          learnEvents: cfg.learnEvents,
          learnSeconds: cfg.learnSeconds,
          maxToolsPerAgent: cfg.maxToolsPerAgent,
        },
        limits,
      );
    case 'sequence':
      return sequenceRule(
        { id: cfg.id, first: cfg.first, then: cfg.then, per: cfg.per, windowSeconds: cfg.windowSeconds },
        limits,
      );
  }
}

/**
 * The streaming detector engine. `observe` is called from the extension's `onDecision` for every event: it
 * dispatches by event kind to the rules that care, each O(1) amortised. `sweep` runs deferred work (the
 * fingerprint clustering) on a timer, off the decision path. A rule that throws is counted and skipped; it
 * never stops the others.
 */
export class DetectorEngine {
  private readonly byKind = new Map<EventKind, CompiledRule[]>();
  private readonly all: CompiledRule[];
  private readonly onError: (error: unknown, rule: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private events = 0;
  private errors = 0;

  constructor(
    configs: readonly DetectorRuleConfig[],
    limits: RuleLimits & { cooldownMs: number },
    raise: (a: AlertInput) => void,
    onError: (error: unknown, rule: string) => void,
  ) {
    this.onError = onError;
    this.all = configs
      .filter((c) => c.enabled)
      .map((cfg) => {
        const d = DEFAULTS[cfg.type];
        const rule = buildRule(cfg, limits);
        const severity = cfg.severity ?? d.severity;
        const actions = cfg.actions ?? d.actions;
        const description = cfg.description;
        // The cooldown is checked here, before a rule builds an alert body: a finding that repeats every event
        // (a burst that goes on, a session full of unverified calls) costs one lookup per event.
        const lastAlerted = new BoundedMap<string, number>(limits.maxKeys);
        const emit: Emit = (key, ts, build) => {
          const last = lastAlerted.get(key);
          if (last !== undefined && ts - last < limits.cooldownMs) return;
          lastAlerted.set(key, ts);
          const f = build();
          raise({
            ...f,
            key,
            ts,
            rule: rule.id,
            severity,
            actions,
            ...(description ? { evidence: { ...f.evidence, ruleDescription: description } } : {}),
          });
        };
        return {
          rule,
          severity,
          actions,
          agents: cfg.agents && !cfg.agents.includes('*') ? new Set(cfg.agents) : undefined,
          verdicts: new Set(cfg.verdicts ?? d.verdicts),
          emit,
        };
      });
    for (const c of this.all) {
      for (const kind of c.rule.kinds) {
        let list = this.byKind.get(kind);
        if (!list) this.byKind.set(kind, (list = []));
        list.push(c);
      }
    }
  }

  /** The rules that run, by id. */
  get ruleIds(): string[] {
    return this.all.map((c) => c.rule.id);
  }

  /** The novel-tool rules, so the inventory can teach them what agents already used. */
  novelToolRules(): NovelToolRule[] {
    return this.all
      .map((c) => c.rule)
      .filter((r): r is NovelToolRule => typeof (r as Partial<NovelToolRule>).seed === 'function');
  }

  /** Feeds one decided event to every rule that looks at its kind. Synchronous, never throws. */
  observe(ctx: StageContext, decision: Decision): void {
    const list = this.byKind.get(ctx.event.kind);
    if (list === undefined) return;
    this.events++;
    const agent = ctx.event.actor.agent;
    for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (c === undefined || !c.verdicts.has(decision.verdict)) continue;
      if (c.agents !== undefined && !c.agents.has(agent)) continue;
      try {
        c.rule.observe(ctx, decision, c.emit);
      } catch (error) {
        this.errors++;
        this.onError(error, c.rule.id);
      }
    }
  }

  /** Runs deferred work now (the timer calls it; tests call it to be deterministic). */
  sweep(now: number): void {
    for (const c of this.all) {
      if (!c.rule.sweep) continue;
      try {
        c.rule.sweep(now, c.emit);
      } catch (error) {
        this.errors++;
        this.onError(error, c.rule.id);
      }
    }
  }

  /** Starts the sweep timer (unref'd: it never keeps a process alive). */
  start(everyMs: number, now: () => number): void {
    if (this.timer || !this.all.some((c) => c.rule.sweep !== undefined)) return;
    this.timer = setInterval(() => {
      this.sweep(now());
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  stats(): EngineStats {
    const rules: EngineStats['rules'] = {};
    for (const c of this.all) rules[c.rule.id] = c.rule.size();
    return { events: this.events, errors: this.errors, rules };
  }
}
