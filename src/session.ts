import { randomUUID } from 'node:crypto';
import type { AgentMessage, Content, Decision, MemoryOp, Tier, ToolCall } from './core/types.js';
import type { SessionState } from './pipeline/session-state.js';
import type { Warden } from './warden.js';

/** A tool as `wrap` takes it: a name and a function that does the work. */
export interface WrappableTool<A extends Record<string, unknown>, R> {
  name: string;
  server?: string;
  execute(args: A, options: { signal: AbortSignal }): R | Promise<R>;
}

/** What a wrapped tool returns: the result, or why there is none. Never throws for a refusal. */
export type WrappedOutcome<R> =
  | { status: 'ok'; result: R; decision: Decision; resultDecision: Decision }
  /** The result was produced but Warden withheld it (or neutralised it: see `resultDecision.content`). */
  | { status: 'withheld'; decision: Decision; resultDecision: Decision; message: string }
  | { status: 'denied' | 'halted' | 'pending'; decision: Decision; message: string }
  | { status: 'error'; decision: Decision; error: unknown; message: string };

/** Options of `wrap`. */
export interface WrapOptions {
  /**
   * What to do when a call needs approval: `wait` blocks until a person decides (or the timeout), `return`
   * hands back `pending` with the approval id at once so the caller can resume later. Default `return`.
   */
  onApproval?: 'wait' | 'return';
  /** How long `wait` waits, ms. Default 15 minutes. */
  approvalTimeoutMs?: number;
}

/** A service that can wait for an approval to be decided (provided by the actions module). */
export interface ApprovalWaiter {
  wait(
    approvalId: string,
    options: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<'granted' | 'denied' | 'expired' | 'cancelled'>;
}

/** Describes a non-allow decision in one line for a model or a person. */
export function describeDecision(decision: Decision): string {
  const why = decision.reasons.map((r) => `${r.message} [${r.control}, ${r.risk}]`).join('; ');
  switch (decision.verdict) {
    case 'allow':
      return 'allowed';
    case 'approve':
      return `waiting for human approval${decision.approvalId ? ` (request ${decision.approvalId})` : ''}: ${why}`;
    case 'halt':
      return `halted: ${why}`;
    case 'deny':
      return `denied: ${why}`;
  }
}

/**
 * One agent working on one task for one user. Every action goes through it: `ingest` for content that
 * enters the context, `authorize` before a tool call, `record` after it, or `wrap` to do all three.
 */
export class Session {
  readonly id: string;
  private readonly warden: Warden;
  /** Internal per-session state shared by the pipeline's stages. */
  readonly state: SessionState;

  /** @internal Created by `Warden.session`. */
  constructor(warden: Warden, state: SessionState) {
    this.warden = warden;
    this.state = state;
    this.id = state.actor.session;
  }

  /** Aborted when a kill switch covering this session or its agent engages: pass it to in-flight work. */
  get signal(): AbortSignal {
    return this.state.controller.signal;
  }

  /** Content enters the agent's context. The decision's `tier` labels it; `content` replaces it when neutralised. */
  ingest(content: Content): Promise<Decision> {
    return this.warden.decide(this.state, { kind: 'ingest', actor: this.state.actor, content });
  }

  /** Asks whether a proposed tool call may run. */
  authorize(call: ToolCall): Promise<Decision> {
    return this.warden.decide(this.state, { kind: 'tool.call', actor: this.state.actor, call });
  }

  /** Records a tool's result; the decision says whether (and as what) it may enter the context. */
  record(
    call: ToolCall,
    result: unknown,
    options: { isError?: boolean; tier?: Tier } = {},
  ): Promise<Decision> {
    return this.warden.decide(this.state, {
      kind: 'tool.result',
      actor: this.state.actor,
      call,
      result,
      ...(options.isError === undefined ? {} : { isError: options.isError }),
      ...(options.tier === undefined ? {} : { tier: options.tier }),
    });
  }

  /** An agent-to-agent message arriving for this session's agent. */
  message(message: AgentMessage): Promise<Decision> {
    return this.warden.decide(this.state, { kind: 'message', actor: this.state.actor, message });
  }

  /** Asks whether a memory write may happen. */
  memoryWrite(op: MemoryOp): Promise<Decision> {
    return this.warden.decide(this.state, { kind: 'memory.write', actor: this.state.actor, memory: op });
  }

  /** Asks whether a memory read may happen. */
  memoryRead(op: MemoryOp): Promise<Decision> {
    return this.warden.decide(this.state, { kind: 'memory.read', actor: this.state.actor, memory: op });
  }

  /**
   * Wraps a tool so each call is authorized, run (with the session's kill signal) and recorded.
   * Refusals come back as values the agent framework can show the model.
   */
  wrap<A extends Record<string, unknown>, R>(
    tool: WrappableTool<A, R>,
    options: WrapOptions = {},
  ): (args: A, extra?: { rationale?: string; callId?: string }) => Promise<WrappedOutcome<R>> {
    return async (args, extra = {}) => {
      const call: ToolCall = {
        tool: tool.name,
        args,
        callId: extra.callId ?? randomUUID(),
        ...(tool.server === undefined ? {} : { server: tool.server }),
        ...(extra.rationale === undefined ? {} : { rationale: extra.rationale }),
      };
      let decision = await this.authorize(call);
      if (decision.verdict === 'approve' && options.onApproval === 'wait' && decision.approvalId) {
        const waiter = this.warden.runtime.service<ApprovalWaiter>('approvals.wait');
        if (waiter) {
          const outcome = await waiter.wait(decision.approvalId, {
            signal: this.signal,
            timeoutMs: options.approvalTimeoutMs ?? 15 * 60_000,
          });
          // Re-submit the exact call: a granted approval is redeemed once, by the pipeline, for these arguments only.
          if (outcome === 'granted') decision = await this.authorize(call);
        }
      }
      if (decision.verdict !== 'allow') {
        const status =
          decision.verdict === 'halt' ? 'halted' : decision.verdict === 'approve' ? 'pending' : 'denied';
        return { status, decision, message: describeDecision(decision) };
      }
      let result: R;
      try {
        result = await tool.execute(args, { signal: this.signal });
      } catch (error) {
        await this.record(
          call,
          { error: error instanceof Error ? error.message : String(error) },
          { isError: true },
        );
        return {
          status: 'error',
          decision,
          error,
          message: error instanceof Error ? error.message : String(error),
        };
      }
      const resultDecision = await this.record(call, result);
      if (resultDecision.verdict !== 'allow') {
        return { status: 'withheld', decision, resultDecision, message: describeDecision(resultDecision) };
      }
      return { status: 'ok', result, decision, resultDecision };
    };
  }
}
