import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Policy } from '../config/policy.js';
import { canonicalJson } from '../core/canonical.js';
import type { Phase } from '../config/schema.js';
import type { Store } from '../store/store.js';
import { isPhase } from './phases.js';

/**
 * Agent state in the store (contracts.md): collection `agent_state`, id = agent id,
 * body `{ phase, since, history }`. Absent means the phase in warden.yaml since the agent's first ledger
 * record. The store's phase wins over the config's.
 *
 * The body also carries `mac`, an HMAC over the agent id and the other fields with the approvals sealing key
 * (`WARDEN_APPROVAL_KEY`, or the store-kept key): a state written to the store by anything but Warden (an
 * agent promoted by editing a row) does not verify and counts as Intern, until a person promotes or demotes
 * the agent with `warden phase`.
 *
 * `PhaseCache` keeps every agent's effective phase in memory, loaded at start and kept fresh through the
 * `warden_phases` channel (plus a slow full refresh), so the phase stage never waits on the store.
 */

/** Collection of agent state documents. */
export const AGENT_STATE_COLLECTION = 'agent_state';
/** Channel on which phase changes are announced. */
export const PHASES_CHANNEL = 'warden_phases';

/** One phase change. */
export interface PhaseChange {
  phase: Phase;
  at: number;
  by: string;
  reason: string;
  /** The phase before the change. */
  from?: Phase;
  /** Alert id, for automatic demotions. */
  alert?: string;
  /** Evidence seen at a promotion. */
  evidence?: { name: string; ok: boolean; detail: string }[];
  /** Digest of what a promotion checked (`PromotionResult.digest`), which a signed sign-off binds. */
  digest?: string;
  /** A promotion's sign-off signature: the signer's key fingerprint, the signature and when it was made. */
  signed?: { fingerprint: string; signature: string; signedAt: number };
}

/** Body of an `agent_state` document. */
export interface AgentState {
  phase: Phase;
  /** When the agent entered its current phase (ms). */
  since: number;
  history: PhaseChange[];
}

function macOf(agentId: string, state: AgentState, key: Buffer): string {
  return createHmac('sha256', key)
    .update(canonicalJson({ agent: agentId, phase: state.phase, since: state.since, history: state.history }))
    .digest('hex');
}

/** The stored body of a state: the state and its seal. */
export function sealAgentState(
  agentId: string,
  state: AgentState,
  key: Buffer,
): AgentState & { mac: string } {
  return { ...state, mac: macOf(agentId, state, key) };
}

/** Validates a stored body and its seal; undefined when it is not a usable state. */
export function parseAgentState(agentId: string, body: unknown, key: Buffer): AgentState | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Partial<AgentState> & { mac?: unknown };
  if (
    !isPhase(b.phase) ||
    typeof b.since !== 'number' ||
    !Number.isFinite(b.since) ||
    !Array.isArray(b.history)
  )
    return undefined;
  const state: AgentState = { phase: b.phase, since: b.since, history: b.history };
  if (typeof b.mac !== 'string' || !/^[0-9a-f]{64}$/.test(b.mac)) return undefined;
  let expected: string;
  try {
    expected = macOf(agentId, state, key);
  } catch {
    return undefined;
  }
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(b.mac, 'hex')) ? state : undefined;
}

/** In-memory effective phases, kept in step with the store. */
export class PhaseCache {
  private readonly store: Store;
  private readonly policy: Policy;
  private readonly key: Buffer;
  private readonly phases = new Map<string, AgentState>();
  /** Agents whose stored state is unreadable: treated as interns (fail closed). */
  private readonly broken = new Set<string>();
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(agent: string, phase: Phase) => void>();

  constructor(store: Store, policy: Policy, key: Buffer) {
    this.store = store;
    this.policy = policy;
    this.key = key;
  }

  /** Loads every stored state and subscribes to changes. */
  async start(refreshMs: number): Promise<void> {
    this.unsubscribe = await this.store.subscribe(PHASES_CHANNEL, (m) => {
      const agent = (m as { agent?: unknown } | null)?.agent;
      if (typeof agent === 'string') this.refreshAgent(agent).catch(() => undefined);
    });
    await this.refreshAll();
    this.timer = setInterval(() => {
      this.refreshAll().catch(() => undefined);
    }, refreshMs);
    this.timer.unref();
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** The effective phase: stored state, else the config's, else intern (an unknown agent never acts). */
  phaseOf(agentId: string): Phase {
    if (this.broken.has(agentId)) return 'intern';
    return this.phases.get(agentId)?.phase ?? this.policy.agent(agentId)?.phase ?? 'intern';
  }

  /** The cached stored state, if any. */
  cached(agentId: string): AgentState | undefined {
    return this.phases.get(agentId);
  }

  /** Called whenever an agent's effective phase changes. */
  onChange(listener: (agent: string, phase: Phase) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Re-reads one agent's state. */
  async refreshAgent(agentId: string): Promise<void> {
    const doc = await this.store.getDoc(AGENT_STATE_COLLECTION, agentId);
    this.apply(agentId, doc === undefined ? null : doc.body);
  }

  /** Re-reads every agent's state. */
  async refreshAll(): Promise<void> {
    const docs = await this.store.listDocs(AGENT_STATE_COLLECTION);
    const seen = new Set<string>();
    for (const d of docs) {
      seen.add(d.id);
      this.apply(d.id, d.body);
    }
    for (const id of [...this.phases.keys(), ...this.broken]) if (!seen.has(id)) this.apply(id, null);
  }

  /** Applies a state read from the store (`null`: no document). */
  apply(agentId: string, body: unknown): void {
    const before = this.phaseOf(agentId);
    if (body === null) {
      this.phases.delete(agentId);
      this.broken.delete(agentId);
    } else {
      const state = parseAgentState(agentId, body, this.key);
      if (state) {
        this.phases.set(agentId, state);
        this.broken.delete(agentId);
      } else {
        this.phases.delete(agentId);
        this.broken.add(agentId);
      }
    }
    const after = this.phaseOf(agentId);
    if (after !== before) {
      for (const l of this.listeners) {
        try {
          l(agentId, after);
        } catch {
          // Listeners must not break the cache.
        }
      }
    }
  }
}
