import { ApprovalRules } from '../actions/approvals/rules.js';
import type { SignedBy } from '../actions/approvals/signed-votes.js';
import type { Policy } from '../config/policy.js';
import type { AgentConfig, Phase } from '../config/schema.js';
import type { MaturitySection } from '../config/sections/maturity.js';
import { StoreError, WardenError } from '../core/errors.js';
import type { Runtime } from '../pipeline/runtime.js';
import type { Store } from '../store/store.js';
import { nextPhase, rankOf, title } from './phases.js';
import {
  checkSignoffSignature,
  promotionEvidenceDigest,
  promotionStatement,
  type PromotionFields,
  type PromotionSignature,
  type SignoffCheck,
} from './signoff.js';
import {
  AGENT_STATE_COLLECTION,
  parseAgentState,
  PHASES_CHANNEL,
  sealAgentState,
  type AgentState,
  type PhaseCache,
  type PhaseChange,
} from './state.js';

/**
 * Promotion and demotion, with evidence from the store.
 *
 * A promotion goes one phase up, never more. It runs every evidence check (pluggable: later modules add
 * theirs with `addEvidence`, e.g. the pre-deployment checklist or a twin run within caps), needs a
 * sign-off by an eligible approver, signed with their key when they declare one (see signoff.ts), and
 * either records the change in `agent_state` and the ledger or refuses with the list of what is missing.
 * A demotion needs no evidence.
 */

/** Collection of alerts (owned by the observability module, contracts.md). */
export const ALERTS_COLLECTION = 'alerts';
const DAY_MS = 86_400_000;

/** What an evidence check sees. */
export interface EvidenceContext {
  agent: AgentConfig;
  from: Phase;
  to: Phase;
  /** Stored state, if any. */
  state: AgentState | undefined;
  /** When the agent entered its current phase (stored `since`, else its first ledger record). */
  since: number | undefined;
  now: number;
  store: Store;
  policy: Policy;
  section: MaturitySection;
}

/** The answer of one check. */
export interface EvidenceResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** A piece of evidence promotion needs. */
export interface EvidenceCheck {
  /** Stable name, listed in `maturity.promotion.evidence`. */
  readonly name: string;
  readonly description: string;
  /** Whether it applies to a promotion to this phase (default: all). */
  appliesTo?(to: Phase): boolean;
  check(ctx: EvidenceContext): Promise<Omit<EvidenceResult, 'name'>>;
}

/** Time at the current phase, against `maturity.promotion.minDays` (14 days at least at Intern). */
export const timeAtPhase: EvidenceCheck = {
  name: 'time-at-phase',
  description: 'enough time at the current phase (maturity.promotion.minDays)',
  check(ctx) {
    const min = ctx.from === 'principal' ? 0 : ctx.section.promotion.minDays[ctx.from];
    if (ctx.since === undefined) {
      return Promise.resolve({
        ok: false,
        detail: `no record of ${ctx.agent.id} acting yet; ${min} days at ${title(ctx.from)} are needed`,
      });
    }
    const days = (ctx.now - ctx.since) / DAY_MS;
    const since = new Date(ctx.since).toISOString();
    return Promise.resolve(
      days >= min
        ? {
            ok: true,
            detail: `${days.toFixed(1)} days at ${title(ctx.from)} since ${since} (minimum ${min})`,
          }
        : {
            ok: false,
            detail: `${days.toFixed(1)} days at ${title(ctx.from)} since ${since}; ${min} are needed (${(min - days).toFixed(1)} to go)`,
          },
    );
  },
};

/** No critical alert for the agent while at its current phase, and none still open. */
export const noCriticalAlerts: EvidenceCheck = {
  name: 'no-critical-alerts',
  description: 'no critical alert while at the current phase, and none open',
  async check(ctx) {
    const hits: string[] = [];
    for (const doc of await ctx.store.listDocs(ALERTS_COLLECTION)) {
      const a = doc.body as {
        agent?: unknown;
        severity?: unknown;
        ts?: unknown;
        status?: unknown;
        rule?: unknown;
      } | null;
      if (!a || a.agent !== ctx.agent.id || a.severity !== 'critical') continue;
      const ts = typeof a.ts === 'number' ? a.ts : 0;
      if ((ctx.since !== undefined && ts >= ctx.since) || a.status !== 'closed') {
        hits.push(
          `${doc.id}${typeof a.rule === 'string' ? ` (${a.rule})` : ''} at ${new Date(ts).toISOString()}${a.status === 'closed' ? '' : ', open'}`,
        );
      }
    }
    return hits.length === 0
      ? { ok: true, detail: 'no critical alert in the window' }
      : {
          ok: false,
          detail: `critical alert${hits.length > 1 ? 's' : ''}: ${hits.slice(0, 5).join('; ')}${hits.length > 5 ? ` and ${hits.length - 5} more` : ''}`,
        };
  },
};

/** The result of a promotion attempt. */
export interface PromotionResult {
  ok: boolean;
  agent: string;
  from: Phase;
  to: Phase;
  evidence: EvidenceResult[];
  /** What is missing, when refused. */
  missing: string[];
  /** When the agent entered its current phase (the tenure the evidence covers), if known. */
  since: number | undefined;
  /** Digest of what the promotion checked (agent, phases, tenure, each check's outcome): a signed sign-off binds it. */
  digest: string;
  /** What to do about a refused sign-off (the CLI prints it as `hint:`). */
  hint?: string;
  /** Who signed off an accepted promotion, and their signature when it was signed. */
  signoff?: { by: string; signed: SignedBy | undefined };
}

/** Options of `promote`. */
export interface PromoteOptions {
  /**
   * The signer's signature of this promotion (`signPromotion` over the fields `statement()` returns, with
   * the same note). Required when the signer declares a publicKey, or a signed sign-off is required.
   */
  signature?: PromotionSignature;
}

/** What `statement()` returns: the fields to sign, the text to show the signer, and the evidence it covers. */
export interface PromotionStatement {
  fields: PromotionFields;
  text: string;
  evidence: PromotionResult;
}

/** The `maturity` service's promotion side. */
export class Promotions {
  private readonly checks = new Map<string, EvidenceCheck>();
  private readonly store: Store;
  private readonly policy: Policy;
  private readonly section: MaturitySection;
  private readonly cache: PhaseCache;
  private readonly runtime: Pick<Runtime, 'audit' | 'clock'>;
  private readonly key: Buffer;
  private readonly approvers: ApprovalRules;
  /** Highest wall time seen: a clock that goes back never makes an old signature fresh again. */
  private highWater = 0;

  constructor(
    store: Store,
    policy: Policy,
    section: MaturitySection,
    cache: PhaseCache,
    runtime: Pick<Runtime, 'audit' | 'clock'>,
    key: Buffer,
    approvers: ApprovalRules = new ApprovalRules(policy),
  ) {
    this.key = key;
    this.approvers = approvers;
    this.store = store;
    this.policy = policy;
    this.section = section;
    this.cache = cache;
    this.runtime = runtime;
    this.addEvidence(timeAtPhase);
    this.addEvidence(noCriticalAlerts);
  }

  /** Registers an evidence check (later modules: checklist, twin, audit). Names are unique. */
  addEvidence(check: EvidenceCheck): void {
    if (this.checks.has(check.name))
      throw new WardenError('INTERNAL', `evidence check ${check.name} is registered twice`);
    this.checks.set(check.name, check);
  }

  /** Names of the registered checks. */
  evidenceNames(): string[] {
    return [...this.checks.keys()];
  }

  /** The stored state of an agent, read from the store (not the cache). */
  async stateOf(
    agentId: string,
  ): Promise<{ state: AgentState | undefined; version: number; broken: boolean }> {
    const doc = await this.store.getDoc(AGENT_STATE_COLLECTION, agentId);
    if (!doc) return { state: undefined, version: 0, broken: false };
    const state = parseAgentState(agentId, doc.body, this.key);
    return { state, version: doc.version, broken: state === undefined };
  }

  /** When the agent entered its current phase: the stored `since`, else its first ledger record. */
  async sinceOf(agentId: string, state: AgentState | undefined): Promise<number | undefined> {
    if (state) return state.since;
    const first = await this.store.readLedger({ agent: agentId, limit: 1 });
    return first[0]?.ts;
  }

  /** Runs the evidence for a promotion of `agent` to `to`, without changing anything. */
  async evidence(agentId: string, to: Phase): Promise<PromotionResult> {
    const agent = this.agentOrThrow(agentId);
    const { state, broken } = await this.stateOf(agentId);
    const from = broken ? 'intern' : (state?.phase ?? agent.phase);
    const missing: string[] = [];
    if (broken)
      missing.push(`the stored state of ${agentId} is unreadable; fix or delete agent_state/${agentId}`);
    if (rankOf(to) <= rankOf(from))
      missing.push(
        `${agentId} is already ${title(from)}; promotion goes up (use \`warden phase demote\` to go down)`,
      );
    else if (nextPhase(from) !== to)
      missing.push(
        `promotion goes one phase at a time: ${title(from)} to ${title(nextPhase(from) as Phase)}, not to ${title(to)}`,
      );
    const since = await this.sinceOf(agentId, state);
    const ctx: EvidenceContext = {
      agent,
      from,
      to,
      state,
      since,
      now: this.runtime.clock.now(),
      store: this.store,
      policy: this.policy,
      section: this.section,
    };
    const wanted = this.section.promotion.evidence ?? [...this.checks.keys()];
    const evidence: EvidenceResult[] = [];
    for (const name of wanted) {
      const check = this.checks.get(name);
      if (!check) {
        evidence.push({
          name,
          ok: false,
          detail: `evidence check ${name} is not available (named in maturity.promotion.evidence)`,
        });
        continue;
      }
      if (check.appliesTo && !check.appliesTo(to)) continue;
      try {
        evidence.push({ name, ...(await check.check(ctx)) });
      } catch (error) {
        evidence.push({
          name,
          ok: false,
          detail: `the check failed: ${error instanceof Error ? error.message : String(error)}`,
        });
      }
    }
    for (const e of evidence) if (!e.ok) missing.push(`${e.name}: ${e.detail}`);
    const digest = promotionEvidenceDigest({ agent: agentId, from, to, since, evidence });
    return { ok: missing.length === 0, agent: agentId, from, to, evidence, missing, since, digest };
  }

  /**
   * Why `signoff` cannot sign off this promotion, or undefined. Eligible: an approver holding one of
   * `maturity.promotion.signoffRoles` when set, else any approver in `approvals.approvers` (any name
   * when none is listed, as for votes); never the agent's owner under `approvals.selfApproval: forbid`.
   */
  signoffProblem(agent: AgentConfig, signoff: string): string | undefined {
    if (typeof signoff !== 'string' || signoff.trim() === '')
      return "a sign-off (a person's name) is required";
    const approvals = this.policy.config.approvals;
    if ((approvals?.selfApproval ?? 'forbid') === 'forbid' && signoff === agent.owner) {
      return `${signoff} owns ${agent.id} and may not sign off its promotion (approvals.selfApproval: forbid)`;
    }
    const listed = approvals?.approvers ?? [];
    const person = listed.find((a) => a.name === signoff);
    const roles = this.section.promotion.signoffRoles;
    if (roles.length > 0) {
      if (!person || !person.roles.some((r) => roles.includes(r))) {
        return `${signoff} does not hold a sign-off role (${roles.join(', ')}; maturity.promotion.signoffRoles)`;
      }
    } else if (listed.length > 0 && !person) {
      return `${signoff} is not an approver (approvals.approvers), so may not sign off a promotion`;
    }
    return undefined;
  }

  /**
   * The statement `signoff` signs to sign off this promotion, built from the evidence as it is now: its
   * fields (pass them to `signPromotion`), its text (show it to the signer first) and the evidence.
   */
  async statement(
    agentId: string,
    to: Phase,
    signoff: string,
    note?: string,
    signedAt: number = this.runtime.clock.now(),
  ): Promise<PromotionStatement> {
    const evidence = await this.evidence(agentId, to);
    const fields: PromotionFields = {
      agent: agentId,
      from: evidence.from,
      to,
      by: signoff,
      evidence: evidence.digest,
      ...(note === undefined ? {} : { note }),
      signedAt,
    };
    return { fields, text: promotionStatement(fields), evidence };
  }

  /**
   * Promotes one phase up, or refuses with what is missing. Records both outcomes in the ledger. When the
   * signer declares a publicKey (or a signed sign-off is required), `options.signature` must be their
   * signature of this promotion (`signPromotion` over `statement()`); a refused one changes nothing.
   */
  async promote(
    agentId: string,
    to: Phase,
    signoff: string,
    note?: string,
    options: PromoteOptions = {},
  ): Promise<PromotionResult> {
    const agent = this.agentOrThrow(agentId);
    const result = await this.evidence(agentId, to);
    const problem = this.signoffProblem(agent, signoff);
    let signed: SignedBy | undefined;
    if (problem) {
      result.missing.push(`sign-off: ${problem}`);
      result.ok = false;
    } else {
      const check = this.checkSignature(result, signoff, note, options.signature);
      if (check.ok) signed = check.signed;
      else {
        result.missing.push(`sign-off: ${check.why}`);
        result.hint = check.hint;
        result.ok = false;
      }
    }
    const offered = options.signature;
    if (!result.ok) {
      await this.runtime.audit('phase.promotion_refused', {
        agent: agentId,
        data: {
          from: result.from,
          to,
          signoff,
          missing: result.missing,
          ...(result.hint === undefined ? {} : { hint: result.hint }),
          evidence: result.evidence,
          digest: result.digest,
          // What was offered, for the record; the refusal says why it did not count.
          signature:
            offered === undefined
              ? null
              : { signedAt: offered.signedAt ?? null, fingerprint: offered.fingerprint ?? null },
        },
      });
      return result;
    }
    const at = this.runtime.clock.now();
    await this.write(agentId, (current) =>
      current !== result.from
        ? `${agentId} changed phase to ${current} during the promotion; run it again`
        : {
            phase: to,
            from: current,
            at,
            by: signoff,
            reason: note ?? `promoted to ${title(to)}`,
            evidence: result.evidence,
            digest: result.digest,
            ...(signed ? { signed } : {}),
          },
    );
    // With agent, from, to, signoff, note and digest, `signed` is enough to check the sign-off again (verifyPromotion).
    await this.runtime.audit('phase.promoted', {
      agent: agentId,
      data: {
        from: result.from,
        to,
        signoff,
        note,
        evidence: result.evidence,
        since: result.since ?? null,
        digest: result.digest,
        signed: signed ?? null,
      },
    });
    result.signoff = { by: signoff, signed };
    return result;
  }

  /** Checks the signature `signoff` gave (or did not give) for this promotion. */
  private checkSignature(
    result: PromotionResult,
    signoff: string,
    note: string | undefined,
    signature: PromotionSignature | undefined,
  ): SignoffCheck {
    const approvals = this.approvers.section;
    const raw = this.runtime.clock.now();
    if (raw > this.highWater) this.highWater = raw;
    return checkSignoffSignature({
      fields: {
        agent: result.agent,
        from: result.from,
        to: result.to,
        by: signoff,
        evidence: result.digest,
        note,
      },
      signature,
      key: this.approvers.approverKey(signoff),
      requiredBy: approvals.requireSignedVotes
        ? 'approvals.requireSignedVotes'
        : this.section.promotion.requireSignedSignoff
          ? 'maturity.promotion.requireSignedSignoff'
          : undefined,
      maxAgeMs: approvals.signedVoteMaxAge,
      now: this.highWater,
      rawNow: raw,
    });
  }

  /** Demotes to a lower phase (any lower phase). */
  async demote(
    agentId: string,
    to: Phase,
    by: string,
    why: string,
    alert?: string,
  ): Promise<{ from: Phase; to: Phase }> {
    this.agentOrThrow(agentId);
    if (by.trim() === '' || why.trim() === '')
      throw new WardenError('INVALID_ARGUMENT', 'a demotion names who and why');
    let from: Phase = 'intern';
    const at = this.runtime.clock.now();
    await this.write(agentId, (current) => {
      from = current;
      if (rankOf(to) >= rankOf(current)) return `${agentId} is ${title(current)}; a demotion goes down`;
      return { phase: to, from: current, at, by, reason: why, ...(alert === undefined ? {} : { alert }) };
    });
    await this.runtime.audit('phase.demoted', {
      agent: agentId,
      data: { from, to, by, reason: why, ...(alert === undefined ? {} : { alert }) },
    });
    return { from, to };
  }

  /**
   * Writes a phase change with compare-and-set, then refreshes the cache and tells replicas. `build` sees
   * the current phase and state and returns the change, a refusal (a string), or null for "nothing to do".
   */
  async write(
    agentId: string,
    build: (current: Phase, state: AgentState | undefined) => PhaseChange | string | null,
  ): Promise<AgentState | undefined> {
    const agent = this.agentOrThrow(agentId);
    for (let attempt = 0; attempt < 16; attempt++) {
      const { state, version, broken } = await this.stateOf(agentId);
      const current: Phase = broken ? 'intern' : (state?.phase ?? agent.phase);
      const change = build(current, state);
      if (change === null) return undefined;
      if (typeof change === 'string') throw new WardenError('INVALID_ARGUMENT', change);
      const next: AgentState = {
        phase: change.phase,
        since: change.at,
        history: [...(state?.history ?? []), { ...change, from: change.from ?? current }].slice(-200),
      };
      if (
        await this.store.putDoc(
          AGENT_STATE_COLLECTION,
          agentId,
          sealAgentState(agentId, next, this.key),
          version,
        )
      ) {
        this.cache.apply(agentId, sealAgentState(agentId, next, this.key));
        await this.store
          .publish(PHASES_CHANNEL, { agent: agentId, phase: next.phase })
          .catch(() => undefined);
        return next;
      }
    }
    throw new StoreError('STORE_CONFLICT', `agent_state/${agentId} kept changing; try again`);
  }

  private agentOrThrow(agentId: string): AgentConfig {
    const agent = this.policy.agent(agentId);
    if (!agent) throw new WardenError('NOT_FOUND', `agent ${JSON.stringify(agentId)} is not in warden.yaml`);
    return agent;
  }
}
