import { randomUUID } from 'node:crypto';
import type { Phase } from '../config/schema.js';
import { approvalKey } from '../actions/approvals/digest.js';
import type { ActionsService } from '../actions/extension.js';
import { COUNTER_CHANNEL, parseCounterMessage, type CounterMessage } from '../actions/grants/rate-limit.js';
import type { Extension, Runtime } from '../pipeline/runtime.js';
import { CriticalAlertDemoter } from './demotion.js';
import { explainPhase, type PhaseExplanation } from './explain.js';
import { DEFAULT_MATURITY, PhaseGate } from './gate.js';
import type { PhaseSource } from './phase-stage.js';
import {
  Promotions,
  type EvidenceCheck,
  type PromoteOptions,
  type PromotionResult,
  type PromotionStatement,
} from './promotion.js';
import { PhaseCache } from './state.js';

/**
 * The maturity module: the effective phase of every agent (store over config, cached, kept fresh by
 * pub/sub), promotion with evidence, automatic demotion on critical alerts, and the `maturity` service.
 * The phase stage itself is registered by the core (`phaseStage()` in warden.ts) and reads this service.
 */

/** The `maturity` service (contracts.md: `{ phaseOf(agentId) }`, plus promotion and explanations). */
export interface MaturityService extends PhaseSource {
  phaseOf(agentId: string): Phase;
  readonly gate: PhaseGate;
  readonly cache: PhaseCache;
  readonly promotions: Promotions;
  readonly demoter: CriticalAlertDemoter;
  /** Registers an evidence check for promotions (checklist, twin, audit). */
  addEvidence(check: EvidenceCheck): void;
  /** Evidence for a promotion, without changing anything. */
  evidence(agentId: string, to: Phase): Promise<PromotionResult>;
  /**
   * Promotes one phase up with a sign-off, or refuses with what is missing. `options.signature` is the
   * signer's `signPromotion` over `statement()`, needed when they declare a publicKey.
   */
  promote(
    agentId: string,
    to: Phase,
    signoff: string,
    note?: string,
    options?: PromoteOptions,
  ): Promise<PromotionResult>;
  /** What `signoff` signs to sign off this promotion: the fields, the text to show, and the evidence. */
  statement(
    agentId: string,
    to: Phase,
    signoff: string,
    note?: string,
    signedAt?: number,
  ): Promise<PromotionStatement>;
  demote(agentId: string, to: Phase, by: string, reason: string): Promise<{ from: Phase; to: Phase }>;
  explain(agentId: string): Promise<PhaseExplanation>;
}

/** Ledger records read at start to rebuild cap windows. */
const SEED_RECORDS = 200_000;

async function seedCaps(runtime: Runtime, gate: PhaseGate): Promise<void> {
  const window = gate.longestWindowMs();
  if (window === 0) return;
  const head = await runtime.store.ledgerHead();
  if (!head) return;
  const since = runtime.clock.now() - window;
  for (const agent of runtime.policy.allAgents()) {
    if (gate.capsOf(agent.id).length === 0) continue;
    let afterSeq = Math.max(0, head.seq - SEED_RECORDS);
    for (;;) {
      const page = await runtime.store.readLedger({
        agent: agent.id,
        type: 'tool.call',
        afterSeq,
        limit: 5_000,
      });
      if (page.length === 0) break;
      for (const r of page) {
        if (r.verdict !== 'allow' || r.ts < since || r.tool === null) continue;
        const data = r.data as { args?: unknown; server?: unknown } | null;
        const tool = runtime.policy.tool(r.tool, typeof data?.server === 'string' ? data.server : undefined);
        const args = data?.args;
        if (!tool || tool.class === 'read' || typeof args !== 'object' || args === null) continue;
        gate.seed(agent.id, tool, args as Record<string, unknown>, r.ts);
      }
      afterSeq = page[page.length - 1]?.seq ?? afterSeq;
      if (page.length < 5_000) break;
    }
  }
}

/** Creates the maturity extension. */
export function extension(): Extension {
  const cleanups: (() => unknown)[] = [];
  return {
    name: 'maturity',
    async setup(runtime: Runtime) {
      const policy = runtime.policy;
      const section = policy.config.maturity ?? DEFAULT_MATURITY;
      // The same sealing key as approval requests: a state nobody but Warden wrote counts as Intern.
      const { key } = await approvalKey(
        runtime.store,
        policy.config.approvals?.keyEnv ?? 'WARDEN_APPROVAL_KEY',
      );
      const cache = new PhaseCache(runtime.store, policy, key);
      await cache.start(section.refreshMs);
      cleanups.push(() => cache.stop());
      const gate = new PhaseGate(policy);
      // The approvers and their keys, as the phase gate compiled them: one parse of approvals.approvers.
      const promotions = new Promotions(runtime.store, policy, section, cache, runtime, key, gate.approvals);
      const demoter = new CriticalAlertDemoter(promotions, policy, section, runtime.store, runtime);

      // Cap windows survive restarts (rebuilt from the ledger) and are shared with replicas.
      const origin = randomUUID();
      const unsubscribe = await runtime.store.subscribe(COUNTER_CHANNEL, (m) => {
        const msg = parseCounterMessage(m);
        if (msg && msg.o !== origin && msg.k.startsWith('cap\u0000'))
          gate.counters.add(msg.k, msg.p, msg.t, msg.w, msg.g);
      });
      cleanups.push(() => unsubscribe());
      gate.onCommit = (k, p, t, w, g) => {
        const msg: CounterMessage = { o: origin, k, p, t, w, ...(g === undefined ? {} : { g }) };
        runtime.store.publish(COUNTER_CHANNEL, msg).catch(() => undefined);
      };
      await seedCaps(runtime, gate);

      const service: MaturityService = {
        phaseOf: (id) => cache.phaseOf(id),
        gate,
        cache,
        promotions,
        demoter,
        addEvidence: (check) => {
          promotions.addEvidence(check);
        },
        evidence: (id, to) => promotions.evidence(id, to),
        promote: (id, to, signoff, note, options) => promotions.promote(id, to, signoff, note, options),
        statement: (id, to, signoff, note, signedAt) => promotions.statement(id, to, signoff, note, signedAt),
        demote: (id, to, by, why) => promotions.demote(id, to, by, why),
        explain: (id) =>
          explainPhase(id, {
            policy,
            gate,
            promotions,
            actions: runtime.service<ActionsService>('actions'),
            now: runtime.clock.now(),
          }),
      };
      runtime.provide('maturity', service);
      // Alerts stored while no Warden ran are handled now; new ones as they are announced.
      await demoter.start();
      cleanups.push(() => demoter.stop());
      return [];
    },
    async close() {
      for (const c of cleanups.splice(0).reverse()) await c();
    },
  };
}
