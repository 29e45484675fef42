import type { KeyObject } from 'node:crypto';
import { sha256Hex } from '../../core/canonical.js';
import { deny, reason, type StageOutcome } from '../../core/decision.js';
import type { Tier } from '../../core/types.js';
import type { Stage, StageContext } from '../../pipeline/stage.js';
import { envelopeShapeProblem, verifySignature, type MessageEnvelope } from './envelope.js';
import type { NonceCache } from './nonce-cache.js';

/** Order of the message stage: after the registry (identity), before the maturity phase. */
export const MESSAGE_STAGE_ORDER = 250;

/** Options of the message stage. */
export interface MessageStageOptions {
  /** Configured agents' public keys. */
  keys: ReadonlyMap<string, KeyObject>;
  edges: readonly { from: string; to: string }[];
  requireSignature: boolean;
  maxSkewMs: number;
  maxAgeMs: number;
  nonces: NonceCache;
  /** Why the sender's output is untrusted (quarantined, killed, tainted, contained), or undefined. */
  senderDistrust: (agent: string, now: number) => string | undefined;
}

function refuse(message: string, evidence: Record<string, unknown>): StageOutcome {
  return deny(reason('agent-message', 6, 'ASI07', message, evidence), {
    who: ['warden.yaml owners'],
    missing: "a message signed by the sender's registered key, fresh, not replayed, along an allowed edge",
  });
}

/**
 * Verifies agent-to-agent messages (ASI07): the recipient is this session's agent, the sender is a configured
 * agent, the edge is allowed, the envelope is signed by the sender's key over this exact payload, fresh, and
 * not replayed. An accepted payload is labelled tier 2 at best (a peer's output is never a user instruction)
 * and tier 3 when the sender is quarantined, killed or tainted; the receiving session's taint is raised to match.
 */
export function messageStage(o: MessageStageOptions): Stage {
  const edges = new Set(o.edges.map((e) => `${e.from}\u0000${e.to}`));
  const allowed = (from: string, to: string) =>
    edges.has(`${from}\u0000${to}`) ||
    edges.has(`${from}\u0000*`) ||
    edges.has(`*\u0000${to}`) ||
    edges.has('*\u0000*');

  function label(ctx: StageContext, from: string): StageOutcome {
    const distrust = o.senderDistrust(from, ctx.now);
    const tier: Tier = distrust === undefined ? 2 : 3;
    return { verdict: 'allow', reasons: [], tier };
  }

  return {
    name: 'agent-message',
    order: MESSAGE_STAGE_ORDER,
    kinds: ['message'],
    async evaluate(ctx) {
      if (ctx.event.kind !== 'message') return undefined;
      const m = ctx.event.message;
      const recipient = ctx.event.actor.agent;
      if (m.to !== recipient) {
        return refuse(`message addressed to ${m.to} was delivered to ${recipient}`, {
          from: m.from,
          to: m.to,
          recipient,
        });
      }
      if (!ctx.policy.agent(m.from))
        return refuse(`sender ${JSON.stringify(m.from)} is not a configured agent`, { from: m.from });
      if (!allowed(m.from, m.to)) {
        return refuse(`${m.from} may not message ${m.to}: no such edge in observe.edges`, {
          from: m.from,
          to: m.to,
        });
      }
      if (m.envelope === undefined) {
        if (o.requireSignature) return refuse(`message from ${m.from} is not signed`, { from: m.from });
        return label(ctx, m.from);
      }
      const problem = envelopeShapeProblem(m.envelope);
      if (problem !== undefined)
        return refuse(`message from ${m.from} has a bad envelope: ${problem}`, { from: m.from });
      const env = m.envelope as unknown as MessageEnvelope;
      if (env.from !== m.from || env.to !== m.to) {
        return refuse('the signed envelope names a different sender or recipient than the message', {
          from: m.from,
          to: m.to,
          envelopeFrom: env.from,
          envelopeTo: env.to,
        });
      }
      const key = o.keys.get(m.from);
      if (!key)
        return refuse(`${m.from} has no publicKey in warden.yaml, so its signature cannot be checked`, {
          from: m.from,
        });
      if (sha256Hex(m.payload) !== env.digest)
        return refuse('the payload does not match the signed digest (altered in transit)', { from: m.from });
      if (!verifySignature(env, key))
        return refuse(`the signature does not verify with ${m.from}'s registered key (forged or wrong key)`, {
          from: m.from,
        });
      if (env.ts > ctx.now + o.maxSkewMs) {
        return refuse(
          `the message is dated ${Math.round((env.ts - ctx.now) / 1000)} s in the future (max skew ${o.maxSkewMs / 1000} s)`,
          { from: m.from, ts: env.ts },
        );
      }
      if (ctx.now - env.ts > o.maxAgeMs) {
        return refuse(
          `the message is ${Math.round((ctx.now - env.ts) / 1000)} s old (max age ${o.maxAgeMs / 1000} s): expired`,
          { from: m.from, ts: env.ts },
        );
      }
      let fresh: boolean;
      try {
        fresh = await o.nonces.claim(m.from, env.nonce, env.ts, ctx.now);
      } catch (error) {
        return refuse(
          `the replay check could not run (${error instanceof Error ? error.message : String(error)}); denied because Warden fails closed`,
          { from: m.from },
        );
      }
      if (!fresh)
        return refuse(`nonce ${env.nonce} from ${m.from} was already used: a replayed message`, {
          from: m.from,
          nonce: env.nonce,
        });
      return label(ctx, m.from);
    },
    observe(ctx, decision) {
      if (decision.verdict !== 'allow' || decision.tier === undefined) return;
      // Only ever raises taint; the trust module owns lowering it.
      if (decision.tier > ctx.session.taint) ctx.session.taint = decision.tier;
    },
  };
}
