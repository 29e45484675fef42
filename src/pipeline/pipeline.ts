import { isTerminal, reason, type StageOutcome } from '../core/decision.js';
import type { Decision, EventKind, Reason, Tier, Verdict } from '../core/types.js';
import type { Stage, StageContext } from './stage.js';

const ALL_KINDS: readonly EventKind[] = [
  'ingest',
  'tool.call',
  'tool.result',
  'message',
  'memory.write',
  'memory.read',
  'credential.issue',
  'credential.revoke',
];

const VERDICTS = new Set<Verdict>(['allow', 'deny', 'approve', 'halt']);

/** The combined outcome of every stage for one event, before approvals and the ledger. */
export interface PipelineOutcome {
  verdict: Verdict;
  reasons: Reason[];
  escalation?: StageOutcome['escalation'];
  content?: string;
  tier?: Tier;
}

function failClosed(stage: string, message: string): PipelineOutcome {
  return {
    verdict: 'deny',
    reasons: [
      reason('fail-closed', 6, 'ASI08', `stage ${stage} ${message}; denied because Warden fails closed`, {
        stage,
      }),
    ],
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs stages in order, cheapest first. The first `deny` or `halt` ends the run and wins; `approve`
 * reasons accumulate; `allow` is "no objection". A stage that throws, rejects, times out or returns
 * something that is not an outcome denies the event.
 */
export class Pipeline {
  private readonly byKind = new Map<EventKind, Stage[]>();
  private readonly stageTimeoutMs: number;

  constructor(stages: readonly Stage[], options: { stageTimeoutMs: number }) {
    this.stageTimeoutMs = options.stageTimeoutMs;
    const names = new Set<string>();
    for (const s of stages) {
      if (names.has(s.name)) throw new TypeError(`two pipeline stages are named ${s.name}`);
      names.add(s.name);
    }
    const sorted = [...stages].sort((a, b) => a.order - b.order);
    for (const kind of ALL_KINDS) {
      this.byKind.set(
        kind,
        sorted.filter((s) => !s.kinds || s.kinds.includes(kind)),
      );
    }
  }

  /** Stages that see this kind of event, in order. */
  stagesFor(kind: EventKind): readonly Stage[] {
    return this.byKind.get(kind) ?? [];
  }

  /** Decides one event. Never rejects. */
  async run(ctx: StageContext): Promise<PipelineOutcome> {
    const stages = this.byKind.get(ctx.event.kind);
    if (!stages) return failClosed('pipeline', `met an unknown event kind ${JSON.stringify(ctx.event.kind)}`);
    let approvals: Reason[] | undefined;
    let escalation: StageOutcome['escalation'];
    let content: string | undefined;
    let tier: Tier | undefined;
    for (const stage of stages) {
      let out: unknown;
      try {
        out = stage.evaluate(ctx);
        if (isThenable(out)) out = await this.bounded(out);
      } catch (error) {
        return failClosed(stage.name, `failed (${error instanceof Error ? error.message : String(error)})`);
      }
      if (out === undefined) continue;
      const o = out as StageOutcome;
      if (typeof o !== 'object' || o === null || !VERDICTS.has(o.verdict) || !Array.isArray(o.reasons)) {
        return failClosed(stage.name, 'returned something that is not a decision');
      }
      if (o.tier !== undefined) tier = tier === undefined ? o.tier : (Math.max(tier, o.tier) as Tier);
      if (o.content !== undefined) content = o.content;
      if (isTerminal(o.verdict)) {
        if (o.reasons.length === 0) return failClosed(stage.name, `returned ${o.verdict} without a reason`);
        const result: PipelineOutcome = {
          verdict: o.verdict,
          reasons: approvals ? [...o.reasons, ...approvals] : o.reasons,
        };
        if (o.escalation ?? escalation) result.escalation = o.escalation ?? escalation;
        if (tier !== undefined) result.tier = tier;
        return result;
      }
      if (o.verdict === 'approve') {
        if (o.reasons.length === 0) return failClosed(stage.name, 'asked for approval without a reason');
        (approvals ??= []).push(...o.reasons);
        escalation ??= o.escalation;
      }
    }
    const result: PipelineOutcome = approvals
      ? { verdict: 'approve', reasons: approvals }
      : { verdict: 'allow', reasons: [] };
    if (escalation && approvals) result.escalation = escalation;
    if (content !== undefined) result.content = content;
    if (tier !== undefined) result.tier = tier;
    return result;
  }

  /** Lets every stage of the event's kind learn from the decision. Errors are reported, not thrown. */
  observe(ctx: StageContext, decision: Decision, onError: (stage: string, error: unknown) => void): void {
    const stages = this.byKind.get(ctx.event.kind);
    if (!stages) return;
    for (const stage of stages) {
      if (!stage.observe) continue;
      try {
        stage.observe(ctx, decision);
      } catch (error) {
        onError(stage.name, error);
      }
    }
  }

  private bounded(promise: PromiseLike<unknown>): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`timed out after ${this.stageTimeoutMs} ms`));
      }, this.stageTimeoutMs);
    });
    return Promise.race([Promise.resolve(promise), timeout]).finally(() => {
      clearTimeout(timer);
    });
  }
}

export { failClosed as failClosedOutcome };
/** Used by tests to say which stage names exist. */
export type { Stage };
