/**
 * Tool definitions as an attack surface: every definition a server lists is digested, compared with its pin
 * and scanned for poisoning and shadowing (against every other server's tools) before the model may see it.
 * The outcome is a status per tool that the tool-list filter and the `tool-definition` pipeline stage read.
 */
import { randomUUID } from 'node:crypto';
import type { Reason } from '../core/types.js';
import type { Runtime } from '../pipeline/runtime.js';
import {
  findingsToReasons,
  scanToolDefinition,
  toolDefinitionDigest,
  type Finding,
  type KnownTool,
  type ScanResult,
  type ToolDefinition,
} from '../supply-chain/tool-definitions/index.js';
import { digest as digestOf } from '../core/canonical.js';
import { loadPins, pinnedDefinition, updatePin, type ToolPin } from './pins.js';
import { reportFinding } from './report.js';

/** What the gateway thinks of one definition. Only `trusted` tools are listed and callable. */
export type DefinitionStatus =
  | { state: 'trusted'; digest: string; reviewed: boolean; findings: Finding[] }
  /** The definition differs from the approved pin: a possible rug pull. */
  | { state: 'changed'; digest: string; pinned: string }
  /** The scanner flagged it (poisoning or shadowing) and nobody reviewed this exact digest. */
  | { state: 'flagged'; digest: string; findings: Finding[] }
  /** `pinning: review` and nobody approved it yet. */
  | { state: 'unreviewed'; digest: string }
  /** It cannot be digested (not plain JSON, too deep): nobody can review what cannot be pinned. */
  | { state: 'invalid'; problem: string };

/** How definitions are judged. */
export interface DefinitionPolicy {
  pinning: 'first-use' | 'review' | 'off';
  poisoned: 'hide' | 'warn';
}

/** Who is looking, for the ledger and alerts. */
export interface ReviewContext {
  agent: string;
  session: string;
}

/** Whether a status blocks the tool (hidden and denied). */
export function isBlocked(status: DefinitionStatus | undefined): boolean {
  return status !== undefined && status.state !== 'trusted';
}

/** Reasons to deny a call to a tool with this status (empty when it is trusted). */
export function statusReasons(server: string, tool: string, status: DefinitionStatus): Reason[] {
  const id = `${server}/${tool}`;
  const fix = `review it, then run \`warden gateway pins approve ${id}\``;
  switch (status.state) {
    case 'trusted':
      return [];
    case 'changed':
      return [
        {
          control: 'tool-pin',
          domain: 5,
          risk: 'ASI04',
          message: `the definition of ${id} changed since it was approved (possible rug pull); it stays blocked until someone approves the new one: ${fix}`,
          evidence: { server, tool, pinned: status.pinned.slice(0, 16), current: status.digest.slice(0, 16) },
        },
      ];
    case 'flagged': {
      const reasons = findingsToReasons({ server, name: tool }, status.findings, 'medium').slice(0, 5);
      const head: Reason = {
        control: 'tool-definition',
        domain: 5,
        risk: 'ASI04',
        message: `the definition of ${id} looks poisoned (${status.findings.length} finding${status.findings.length === 1 ? '' : 's'}); it stays blocked until someone reviews it: ${fix}`,
        evidence: { server, tool, digest: status.digest.slice(0, 16) },
      };
      return [head, ...reasons];
    }
    case 'unreviewed':
      return [
        {
          control: 'tool-pin',
          domain: 5,
          risk: 'ASI04',
          message: `${id} is new and this gateway only exposes reviewed tools (pinning: review): ${fix}`,
          evidence: { server, tool, digest: status.digest.slice(0, 16) },
        },
      ];
    case 'invalid':
      return [
        {
          control: 'tool-pin',
          domain: 5,
          risk: 'ASI04',
          message: `the definition of ${id} cannot be pinned (${status.problem}), so it is not exposed`,
          evidence: { server, tool },
        },
      ];
  }
}

/** Scans are pure and definitions repeat across sessions: cache by server, digest and what else is known. */
const scanCache = new Map<string, ScanResult>();
const SCAN_CACHE_MAX = 5_000;

function cachedScan(
  server: string,
  def: ToolDefinition,
  digest: string,
  knownKey: string,
  known: KnownTool[],
): ScanResult {
  const key = `${server}\u0000${digest}\u0000${knownKey}`;
  const hit = scanCache.get(key);
  if (hit) return hit;
  const result = scanToolDefinition(def, { server, knownTools: known });
  if (scanCache.size >= SCAN_CACHE_MAX) scanCache.delete(scanCache.keys().next().value as string);
  scanCache.set(key, result);
  return result;
}

/**
 * Judges every listed definition (all servers at once, so shadowing across servers is seen), creates
 * first-use pins, records what changed or was flagged (once per digest) and returns a status per
 * `server` → `tool`. A store failure makes the affected tools `invalid`: fail closed.
 */
export async function reviewDefinitions(
  runtime: Runtime,
  lists: ReadonlyMap<string, readonly ToolDefinition[]>,
  policy: DefinitionPolicy,
  who: ReviewContext,
): Promise<Map<string, Map<string, DefinitionStatus>>> {
  const known: KnownTool[] = [];
  for (const [server, defs] of lists) {
    for (const d of defs)
      known.push(
        typeof d.description === 'string'
          ? { server, name: d.name, description: d.description }
          : { server, name: d.name },
      );
  }
  let knownKey: string;
  try {
    knownKey = digestOf(known.map((k) => [k.server, k.name, k.description ?? '']).sort());
  } catch {
    knownKey = randomUUID();
  }
  const out = new Map<string, Map<string, DefinitionStatus>>();
  for (const [server, defs] of lists) {
    const statuses = new Map<string, DefinitionStatus>();
    out.set(server, statuses);
    let pins: Awaited<ReturnType<typeof loadPins>> | undefined;
    if (policy.pinning !== 'off') {
      try {
        pins = await loadPins(runtime.store, server);
      } catch (error) {
        for (const d of defs)
          statuses.set(d.name, {
            state: 'invalid',
            problem: `the pin store is unreachable (${String(error)})`,
          });
        continue;
      }
    }
    for (const def of defs) {
      let status: DefinitionStatus;
      try {
        status = await judge(runtime, server, def, pins?.get(def.name)?.body, policy, known, knownKey, who);
      } catch (error) {
        status = { state: 'invalid', problem: error instanceof Error ? error.message : String(error) };
      }
      statuses.set(def.name, status);
    }
  }
  return out;
}

async function judge(
  runtime: Runtime,
  server: string,
  def: ToolDefinition,
  pin: ToolPin | undefined,
  policy: DefinitionPolicy,
  known: KnownTool[],
  knownKey: string,
  who: ReviewContext,
): Promise<DefinitionStatus> {
  let digest: string;
  try {
    digest = toolDefinitionDigest(def);
  } catch (error) {
    return { state: 'invalid', problem: error instanceof Error ? error.message : String(error) };
  }
  const scan = cachedScan(server, def, digest, knownKey, known);
  const blocksOnFlag = scan.flagged && policy.poisoned === 'hide';
  const now = runtime.clock.now();
  const tool = def.name;

  if (policy.pinning === 'off') {
    if (scan.flagged)
      await reportOnce(runtime, server, tool, digest, pin, 'flagged', scan.findings, who, blocksOnFlag);
    return blocksOnFlag
      ? { state: 'flagged', digest, findings: scan.findings }
      : { state: 'trusted', digest, reviewed: false, findings: scan.findings };
  }

  const approved = pin?.approved;
  if (approved && approved.digest === digest) {
    if (approved.how === 'review')
      return { state: 'trusted', digest, reviewed: true, findings: scan.findings };
    if (blocksOnFlag) {
      await markPending(runtime, server, tool, def, digest, 'flagged', scan.findings, now);
      await reportOnce(runtime, server, tool, digest, pin, 'flagged', scan.findings, who, true);
      return { state: 'flagged', digest, findings: scan.findings };
    }
    return { state: 'trusted', digest, reviewed: false, findings: scan.findings };
  }
  if (approved) {
    await markPending(runtime, server, tool, def, digest, 'changed', scan.findings, now);
    await reportOnce(
      runtime,
      server,
      tool,
      digest,
      pin,
      'changed',
      scan.findings,
      who,
      true,
      approved.digest,
    );
    return { state: 'changed', digest, pinned: approved.digest };
  }
  if (blocksOnFlag) {
    await markPending(runtime, server, tool, def, digest, 'flagged', scan.findings, now);
    await reportOnce(runtime, server, tool, digest, pin, 'flagged', scan.findings, who, true);
    return { state: 'flagged', digest, findings: scan.findings };
  }
  if (policy.pinning === 'review') {
    await markPending(runtime, server, tool, def, digest, 'new', scan.findings, now);
    return { state: 'unreviewed', digest };
  }
  // First use: pin what is seen now. A concurrent replica may pin first; then its pin is what counts.
  const stored = await updatePin(runtime.store, server, tool, (current) => {
    if (current?.approved) return undefined;
    return {
      server,
      tool,
      approved: {
        digest,
        definition: pinnedDefinition(def),
        at: now,
        by: 'gateway (first use)',
        how: 'first-use',
      },
    };
  });
  if (stored?.approved && stored.approved.digest !== digest) {
    return { state: 'changed', digest, pinned: stored.approved.digest };
  }
  await runtime.audit('gateway.tool.pinned', {
    agent: who.agent,
    session: who.session,
    data: { server, tool, digest, how: 'first-use' },
  });
  if (scan.flagged)
    await reportOnce(runtime, server, tool, digest, stored, 'flagged', scan.findings, who, false);
  return { state: 'trusted', digest, reviewed: false, findings: scan.findings };
}

async function markPending(
  runtime: Runtime,
  server: string,
  tool: string,
  def: ToolDefinition,
  digest: string,
  why: 'changed' | 'flagged' | 'new',
  findings: Finding[],
  now: number,
): Promise<void> {
  await updatePin(runtime.store, server, tool, (current) => {
    if (current?.pending?.digest === digest) return undefined;
    const next: ToolPin = {
      ...(current ?? { server, tool }),
      pending: {
        digest,
        definition: pinnedDefinition(def),
        seenAt: now,
        why,
        ...(findings.length > 0
          ? { findings: findings.slice(0, 10).map((f) => `${f.severity}: ${f.message}`) }
          : {}),
      },
    };
    return next;
  });
}

/** Records a finding in the ledger and as an alert, once per digest (the pin remembers what it reported). */
async function reportOnce(
  runtime: Runtime,
  server: string,
  tool: string,
  digest: string,
  pin: ToolPin | undefined,
  what: 'changed' | 'flagged',
  findings: Finding[],
  who: ReviewContext,
  blocked: boolean,
  pinned?: string,
): Promise<void> {
  const key = `${what}:${digest}`;
  if (pin?.reported?.includes(key)) return;
  await reportFinding(runtime, {
    server,
    tool,
    digest,
    what,
    findings,
    who,
    blocked,
    ...(pinned === undefined ? {} : { pinned }),
  });
  await updatePin(runtime.store, server, tool, (current) => {
    if (!current) return undefined;
    const reported = current.reported ?? [];
    if (reported.includes(key)) return undefined;
    return { ...current, reported: [...reported, key].slice(-20) };
  }).catch(() => undefined);
}
