/**
 * Holding a call the pipeline sent to a person. The call waits while the person decides, either in the MCP
 * client (elicitation, when the client declared it) or on the approvals queue (`warden approvals approve ID`);
 * on a grant the caller re-authorizes the exact call, which redeems the approval once. The gateway never
 * turns an approval into an allow by itself: the pipeline does, from the approvals store.
 */
import type { Decision, ToolCall } from '../core/types.js';
import type { Runtime } from '../pipeline/runtime.js';
import type { SessionState } from '../pipeline/session-state.js';
import type { ApprovalWaiter } from '../session.js';
import {
  clientSupportsFormElicitation,
  describeProvenance,
  elicitationParams,
  factsFor,
  readAnswer,
  renderValue,
  type ApprovalFacts,
} from './elicitation.js';
import { errorText, isPlainObject, type RpcResponse } from './jsonrpc.js';

/** The part of the actions module's approvals API (`approvals.api` service) the gateway uses. */
export interface ApprovalsApi {
  get(id: string): Promise<{ request: ApprovalRequestView }>;
  approve(id: string, by: string, note?: string): Promise<unknown>;
  deny(id: string, by: string, reason: string): Promise<unknown>;
}

/** The members of a stored approval request the elicitation shows. */
export interface ApprovalRequestView {
  id: string;
  agent: string;
  tool: string;
  server?: string;
  args: unknown;
  provenance: Record<string, unknown> | null;
  rationale: string | null;
  reasons: { message: string; control: string; risk: string }[];
  expiresAt: number;
}

/** What the hold needs from the connection. */
export interface HoldEnv {
  runtime: Runtime;
  state: SessionState;
  agent: string;
  via: 'auto' | 'elicitation' | 'queue';
  clientCapabilities: unknown;
  /** Approver name recorded for decisions made in the client. */
  approverName: string;
  timeoutMs: number;
  progressIntervalMs: number;
  /** Aborted when the client cancels the call, disconnects, or a kill switch engages. */
  signal: AbortSignal;
  /** Sends elicitation/create to the client, related to the held call. */
  elicit(params: Record<string, unknown>, signal: AbortSignal): Promise<RpcResponse>;
  /** Sends a progress notification (no-op when the client did not ask for progress). */
  progress(message: string): void;
  log(text: string): void;
}

/** How a hold ended. */
export type HoldOutcome = { verdict: 'granted'; by: string } | { verdict: 'refused'; message: string };

function approvalsApi(runtime: Runtime): ApprovalsApi | undefined {
  const api = runtime.service<Partial<ApprovalsApi>>('approvals.api');
  return api &&
    typeof api.get === 'function' &&
    typeof api.approve === 'function' &&
    typeof api.deny === 'function'
    ? (api as ApprovalsApi)
    : undefined;
}

function provenanceLookup(runtime: Runtime, state: SessionState): (value: unknown) => unknown {
  const trust = runtime.service<{ provenanceOf?: (s: SessionState, v: unknown) => unknown }>('trust');
  const fn = trust?.provenanceOf;
  return typeof fn === 'function' ? (v) => fn.call(trust, state, v) : () => undefined;
}

/** Facts from the stored request (what the approvals module sealed), else from the call itself. */
async function factsOf(
  env: HoldEnv,
  api: ApprovalsApi,
  call: ToolCall,
  decision: Decision,
  approvalId: string,
): Promise<ApprovalFacts> {
  const redact = (t: string) => env.runtime.redactor.text(t);
  try {
    const { request: r } = await api.get(approvalId);
    const args = isPlainObject(r.args) ? r.args : {};
    return {
      approvalId: r.id,
      agent: r.agent,
      server: r.server,
      tool: r.tool,
      args: Object.entries(args).map(([name, value]) => ({
        name,
        value: redact(renderValue(value)),
        provenance:
          r.provenance === null
            ? 'not traced (no provenance service)'
            : redact(describeProvenance(r.provenance[name])),
      })),
      reasons: r.reasons.map((x) => redact(`${x.message} [${x.control}, ${x.risk}]`)),
      rationale: r.rationale === null ? undefined : redact(r.rationale),
      expiresAt: r.expiresAt,
    };
  } catch {
    return factsFor(call, decision, env.agent, provenanceLookup(env.runtime, env.state), redact, undefined);
  }
}

/** Holds a call that needs approval until a person decides, the request expires, or the caller gives up. */
export async function holdForApproval(
  env: HoldEnv,
  call: ToolCall,
  decision: Decision,
): Promise<HoldOutcome> {
  const approvalId = decision.approvalId;
  if (approvalId === undefined)
    return { verdict: 'refused', message: 'this call needs approval and no approval request could be made' };
  const timer = setInterval(() => {
    env.progress(`waiting for human approval of request ${approvalId}`);
  }, env.progressIntervalMs);
  timer.unref?.();
  try {
    const canElicit = clientSupportsFormElicitation(env.clientCapabilities);
    const useElicitation = env.via === 'elicitation' || (env.via === 'auto' && canElicit);
    const api = approvalsApi(env.runtime);
    if (useElicitation && canElicit && api) {
      const asked = await askInClient(env, call, decision, approvalId, api);
      if (asked !== undefined) return asked;
      // The client could not ask, or its answer could not be recorded: the request stays on the queue.
    } else if (env.via === 'elicitation') {
      env.log(
        canElicit
          ? 'gateway.approvals.via is elicitation, but no approvals API (actions module) is running; waiting on the queue'
          : 'gateway.approvals.via is elicitation, but the client did not declare the elicitation capability; waiting on the queue',
      );
    }
    return await waitOnQueue(env, call, approvalId);
  } finally {
    clearInterval(timer);
  }
}

async function askInClient(
  env: HoldEnv,
  call: ToolCall,
  decision: Decision,
  approvalId: string,
  api: ApprovalsApi,
): Promise<HoldOutcome | undefined> {
  const facts = await factsOf(env, api, call, decision, approvalId);
  const ac = new AbortController();
  const onAbort = () => {
    ac.abort(env.signal.reason);
  };
  env.signal.addEventListener('abort', onAbort, { once: true });
  const timeout = setTimeout(() => {
    ac.abort(new Error('timed out'));
  }, env.timeoutMs);
  timeout.unref?.();
  let reply: RpcResponse;
  try {
    reply = await env.elicit(elicitationParams(facts), ac.signal);
  } finally {
    clearTimeout(timeout);
    env.signal.removeEventListener('abort', onAbort);
  }
  if (env.signal.aborted)
    return { verdict: 'refused', message: `the call was cancelled while waiting for approval ${approvalId}` };
  if (reply.error || !reply.result) {
    env.log(
      `elicitation for approval ${approvalId} failed (${reply.error?.message ?? 'no result'}); waiting on the queue instead`,
    );
    return undefined;
  }
  const answer = readAnswer(reply.result);
  if (answer.answer === 'cancelled') {
    return {
      verdict: 'refused',
      message: `approval ${approvalId} was not given (${answer.detail}); it stays pending and can still be approved with \`warden approvals approve ${approvalId} --as <name>\`, then call again`,
    };
  }
  const by = env.approverName;
  try {
    if (answer.answer === 'approve')
      await api.approve(approvalId, by, answer.note ?? 'approved in the MCP client');
    else await api.deny(approvalId, by, answer.note ?? 'refused in the MCP client');
  } catch (error) {
    // For example: this approver is not in approvals.approvers, or self-approval is forbidden.
    env.log(
      `the decision made in the client on approval ${approvalId} was not accepted (${errorText(error)}); waiting on the queue instead`,
    );
    return undefined;
  }
  if (answer.answer === 'refuse')
    return { verdict: 'refused', message: `${by} refused approval ${approvalId} in the client` };
  // A quorum above one needs more approvers: the queue tells when it is reached.
  return undefined;
}

async function waitOnQueue(env: HoldEnv, call: ToolCall, approvalId: string): Promise<HoldOutcome> {
  const waiter = env.runtime.service<ApprovalWaiter>('approvals.wait');
  if (!waiter) {
    return {
      verdict: 'refused',
      message: `call ${call.tool} waits for approval ${approvalId}; once someone runs \`warden approvals approve ${approvalId} --as <name>\`, call it again with the same arguments`,
    };
  }
  let outcome: Awaited<ReturnType<ApprovalWaiter['wait']>>;
  try {
    outcome = await waiter.wait(approvalId, { signal: env.signal, timeoutMs: env.timeoutMs });
  } catch (error) {
    return { verdict: 'refused', message: `waiting for approval ${approvalId} failed (${errorText(error)})` };
  }
  switch (outcome) {
    case 'granted':
      return { verdict: 'granted', by: 'approvals queue' };
    case 'denied':
      return { verdict: 'refused', message: `a person refused approval ${approvalId}` };
    case 'expired':
      return { verdict: 'refused', message: `approval ${approvalId} expired before anyone decided` };
    case 'cancelled':
      return {
        verdict: 'refused',
        message: `the wait for approval ${approvalId} was cancelled (the client cancelled the call, disconnected, or the wait timed out)`,
      };
  }
}
