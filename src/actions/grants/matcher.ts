import type { Policy } from '../../config/policy.js';
import type { AgentConfig, ToolConfig } from '../../config/schema.js';
import type { Grant } from '../../config/sections/actions.js';
import { canonicalJson } from '../../core/canonical.js';
import type { ToolCall } from '../../core/types.js';
import { nameMatcher } from './glob.js';
import {
  compileWhere,
  indexKeysOf,
  MAX_TESTED_LENGTH,
  readPath,
  scalarText,
  type CompiledWhere,
} from './schema-compile.js';

/**
 * Grants compiled into a per-agent, per-tool table at load. A decision is a map lookup for the agent, one
 * for the tool, then the compiled `where` tests of that tool's few grants (or, for a tool with many grants,
 * an index on the argument most of them pin to exact values or to path globs with a literal first segment).
 *
 * Semantics (deny wins, default deny):
 * - an agent without a `grants:` key is unrestricted here (every declared tool; other gates still apply),
 *   unless `actions.undeclaredGrants: none`; `grants: []` allows nothing;
 * - a matching `effect: deny` grant refuses the call, whatever allows it;
 * - otherwise the call needs at least one matching `allow` grant that has not lapsed and has room in its rate.
 * The order of grants never changes a decision.
 */

/** One grant, compiled. */
export interface CompiledGrant {
  /** Position in the agent's `grants:` list. */
  readonly index: number;
  /** `id`, or `grants[i]`. */
  readonly label: string;
  readonly effect: 'allow' | 'deny';
  readonly tools: readonly string[];
  readonly server: string | undefined;
  readonly where: CompiledWhere;
  readonly rate: { count: number; perMs: number } | undefined;
  /** Lapse time, ms since the epoch. */
  readonly until: number | undefined;
  readonly reason: string | undefined;
  /** Key of its rate window: stable across replicas with the same config. */
  readonly rateKey: string;
  readonly source: Grant;
}

interface GroupIndex {
  readonly path: string;
  readonly segments: readonly string[];
  /** Grants by index key (`=<exact text>`, `/<first path segment>`). */
  readonly byKey: Map<string, CompiledGrant[]>;
  /** Grants that do not pin the indexed argument: always candidates. */
  readonly rest: readonly CompiledGrant[];
}

interface ToolGroup {
  readonly allow: readonly CompiledGrant[];
  readonly deny: readonly CompiledGrant[];
  readonly allowIndex: GroupIndex | undefined;
  readonly denyIndex: GroupIndex | undefined;
}

/** One agent's compiled grants. */
export interface AgentGrants {
  readonly agent: string;
  readonly grants: readonly CompiledGrant[];
  readonly byTool: ReadonlyMap<ToolConfig, ToolGroup>;
}

/** What the grants say about one call. */
export type GrantVerdict =
  /** The agent declares no grants and the config lets such agents use every declared tool. */
  | { kind: 'unrestricted' }
  /** Matching allow grants (more than one only when every one so far has a rate limit). */
  | { kind: 'allow'; candidates: readonly CompiledGrant[] }
  | { kind: 'deny-grant'; grant: CompiledGrant }
  | {
      kind: 'none';
      why: 'no-grants' | 'no-tool-grant' | 'no-match' | 'lapsed';
      /** The allow grant that came closest, and what it lacks. */
      closest?: { grant: CompiledGrant; failures: string[] };
    };

/** Groups with more grants than this get an index on a pinned argument. */
const INDEX_THRESHOLD = 8;

/** Compiled grants of every agent. */
export class GrantMatcher {
  private readonly agents = new Map<string, AgentGrants>();
  private readonly unrestrictedDefault: boolean;
  /** Problems found while compiling that do not stop loading (contradictions, dead grants). */
  readonly warnings: string[] = [];

  constructor(policy: Policy) {
    const tools = policy.config.tools;
    this.unrestrictedDefault =
      (policy.config.actions?.undeclaredGrants ?? 'all-declared-tools') === 'all-declared-tools';
    policy.config.agents.forEach((agent, ai) => {
      if (agent.grants === undefined) return;
      this.agents.set(agent.id, compileAgent(agent, ai, tools, this.warnings));
    });
  }

  /** The agent's compiled grants, or undefined when it declares none. */
  forAgent(agentId: string): AgentGrants | undefined {
    return this.agents.get(agentId);
  }

  /** Decides one call against the agent's grants. Does not touch rate windows. */
  match(agentId: string, tool: ToolConfig, call: ToolCall, now: number): GrantVerdict {
    const ag = this.agents.get(agentId);
    if (ag === undefined)
      return this.unrestrictedDefault ? { kind: 'unrestricted' } : { kind: 'none', why: 'no-grants' };
    const group = ag.byTool.get(tool);
    if (group === undefined)
      return { kind: 'none', why: ag.grants.length === 0 ? 'no-grants' : 'no-tool-grant' };
    const args = call.args;
    const server = call.server ?? tool.server;
    for (const g of candidates(group.deny, group.denyIndex, args)) {
      if (g.until !== undefined && now >= g.until) continue;
      if (g.server !== undefined && g.server !== server) continue;
      if (g.where.test(args, 'deny')) return { kind: 'deny-grant', grant: g };
    }
    let found: CompiledGrant[] | undefined;
    let lapsed = false;
    for (const g of candidates(group.allow, group.allowIndex, args)) {
      if (g.server !== undefined && g.server !== server) continue;
      if (!g.where.test(args, 'allow')) continue;
      if (g.until !== undefined && now >= g.until) {
        lapsed = true;
        continue;
      }
      // An unlimited grant settles it; rate-limited ones are collected so the stage can find one with room.
      if (g.rate === undefined) return { kind: 'allow', candidates: [g] };
      (found ??= []).push(g);
    }
    if (found) return { kind: 'allow', candidates: found };
    if (lapsed) return { kind: 'none', why: 'lapsed' };
    const closest = closestGrant(group.allow, args, server);
    return closest ? { kind: 'none', why: 'no-match', closest } : { kind: 'none', why: 'no-match' };
  }
}

/** The grants worth testing for a call: all of them, or (with an index) those the value's keys reach plus the rest. */
function candidates(
  list: readonly CompiledGrant[],
  index: GroupIndex | undefined,
  args: Record<string, unknown>,
): readonly CompiledGrant[] {
  if (index === undefined) return list;
  const v = readPath(args, index.path, index.segments);
  const text = scalarText(v);
  // Arrays, objects, absent or untestably long values: every grant must be considered (a deny-list reads
  // doubt as a match, so skipping any would be unsafe).
  if (text === undefined || text.length > MAX_TESTED_LENGTH) return list;
  const keys = indexKeysOf(text);
  const first = index.byKey.get(keys[0] as string);
  const second = keys.length > 1 ? index.byKey.get(keys[1] as string) : undefined;
  if (!first && !second) return index.rest;
  const out: CompiledGrant[] = [];
  if (first) out.push(...first);
  if (second) for (const g of second) if (!first?.includes(g)) out.push(g);
  out.push(...index.rest);
  return out;
}

function closestGrant(
  allow: readonly CompiledGrant[],
  args: Record<string, unknown>,
  server: string | undefined,
) {
  let best: { grant: CompiledGrant; failures: string[] } | undefined;
  for (const g of allow) {
    const failures = g.where.failures(args);
    if (g.server !== undefined && g.server !== server) failures.unshift(`server must be ${g.server}`);
    if (!best || failures.length < best.failures.length) best = { grant: g, failures };
    if (allow.length > 200) break;
  }
  return best;
}

function buildIndex(grants: readonly CompiledGrant[]): GroupIndex | undefined {
  if (grants.length <= INDEX_THRESHOLD) return undefined;
  // Pick the most selective argument: keyed (exact values, or path globs with a literal first segment) by
  // at least half the grants, with the most distinct keys (an argument every grant pins to the same two
  // values would not narrow anything).
  const keyed = new Map<string, { grants: number; keys: Set<string> }>();
  for (const g of grants) {
    for (const c of g.where.constraints) {
      if (!c.indexKeys) continue;
      let e = keyed.get(c.path);
      if (!e) keyed.set(c.path, (e = { grants: 0, keys: new Set() }));
      e.grants++;
      for (const k of c.indexKeys) e.keys.add(k);
    }
  }
  let path: string | undefined;
  let best = 1;
  for (const [p, e] of keyed) {
    if (e.grants * 2 < grants.length) continue;
    if (e.keys.size > best) [path, best] = [p, e.keys.size];
  }
  if (path === undefined) return undefined;
  const byKey = new Map<string, CompiledGrant[]>();
  const rest: CompiledGrant[] = [];
  let segments: readonly string[] = [];
  for (const g of grants) {
    const c = g.where.constraints.find((x) => x.path === path && x.indexKeys);
    if (!c?.indexKeys) {
      rest.push(g);
      continue;
    }
    segments = c.segments;
    for (const key of new Set(c.indexKeys)) {
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      list.push(g);
    }
  }
  return { path, segments, byKey, rest };
}

function compileAgent(
  agent: AgentConfig,
  agentIndex: number,
  tools: readonly ToolConfig[],
  warnings: string[],
): AgentGrants {
  const grants: CompiledGrant[] = (agent.grants ?? []).map((g, i) => {
    const label = g.id ?? `grants[${i}]`;
    const where = compileWhere(g.where);
    const until = g.until === undefined ? undefined : Date.parse(g.until);
    return {
      index: i,
      label,
      effect: g.effect,
      tools: Array.isArray(g.tool) ? g.tool : [g.tool],
      server: g.server,
      where,
      rate: g.rate === undefined ? undefined : { count: g.rate.count, perMs: g.rate.per },
      until,
      reason: g.reason,
      rateKey: `grant\u0000${agent.id}\u0000${i}`,
      source: g,
    };
  });
  const at = (g: CompiledGrant) =>
    `agents[${agentIndex}].grants[${g.index}]${g.label.startsWith('grants[') ? '' : ` (${g.label})`}`;
  const byTool = new Map<ToolConfig, ToolGroup>();
  const matchedAny = new Set<CompiledGrant>();
  for (const tool of tools) {
    const allow: CompiledGrant[] = [];
    const deny: CompiledGrant[] = [];
    for (const g of grants) {
      const names = g.tools.map(nameMatcher);
      const fullName = tool.server ? `${tool.server}/${tool.name}` : tool.name;
      if (!names.some((m) => m(tool.name) || m(fullName))) continue;
      if (g.server !== undefined && tool.server !== undefined && g.server !== tool.server) continue;
      matchedAny.add(g);
      (g.effect === 'deny' ? deny : allow).push(g);
    }
    if (allow.length === 0 && deny.length === 0) continue;
    byTool.set(tool, { allow, deny, allowIndex: buildIndex(allow), denyIndex: buildIndex(deny) });
    // Contradictions: deny wins, so an allow grant that a deny grant always overrides is dead.
    for (const d of deny) {
      if (d.until !== undefined) continue;
      const dWhere = canonicalJson(d.source.where ?? {});
      for (const a of allow) {
        if (d.server !== undefined && d.server !== a.server) continue;
        if (dWhere === '{}' || dWhere === canonicalJson(a.source.where ?? {})) {
          warnings.push(
            `${at(a)} allows ${tool.name} for ${agent.id} but ${at(d)} denies ${dWhere === '{}' ? 'every call to it' : 'the same calls'}; deny wins, so the allow grant never applies`,
          );
        }
      }
    }
  }
  const seen = new Map<string, CompiledGrant>();
  for (const g of grants) {
    if (!matchedAny.has(g))
      warnings.push(`${at(g)} names ${g.tools.join(', ')}, which matches no tool declared under \`tools:\``);
    if (g.effect === 'deny' && g.rate !== undefined)
      warnings.push(`${at(g)} is a deny grant with a rate; the rate is ignored`);
    if (g.until !== undefined && g.until <= Date.now())
      warnings.push(`${at(g)} lapsed on ${new Date(g.until).toISOString()}`);
    const key = canonicalJson({ ...g.source, id: undefined, reason: undefined });
    const dup = seen.get(key);
    if (dup) warnings.push(`${at(g)} repeats ${at(dup)}`);
    else seen.set(key, g);
  }
  return { agent: agent.id, grants, byTool };
}
