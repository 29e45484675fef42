import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Policy } from '../../config/policy.js';
import type { AgentConfig, ToolConfig } from '../../config/schema.js';
import type { Grant, WhereValue } from '../../config/sections/actions.js';
import { ConfigError } from '../../core/errors.js';
import type { Actor, Tier, ToolCall } from '../../core/types.js';
import { looksLikeGlob } from './glob.js';

/**
 * Cedar policies for conditions grants cannot express. The text is parsed once, at load, into a
 * preparsed policy set inside the Cedar engine; a decision sends only the request.
 *
 * The request Warden builds for a tool call:
 * - principal `Agent::"<agent id>"`, member of `Role::"<role>"` for each of its roles, attributes `owner`, `phase`;
 * - action `Action::"<tool name>"`, member of `Action::"<class>"` (`read`, `write`, `irreversible`);
 * - resource `Tool::"<server>/<tool>"` (or `Tool::"<tool>"`), attributes `class`, `authoritative`, `outbound`, `server`;
 * - context `{ args, phase, taint, now, session, class, user?, task?, tenant?, server? }`.
 *
 * Arguments map to Cedar values: strings, booleans and integers as such, lists as sets, objects as
 * records; fractional numbers become `decimal(...)` values (up to 4 decimals) or text; `null` members are
 * dropped; an object with a key Cedar reserves (`__entity`, `__extn`, `__expr`) becomes its JSON text, so
 * an argument can never smuggle in an entity reference.
 *
 * Deny overrides: a `forbid` that applies refuses the call even when a grant allows it; a `forbid` that
 * fails to evaluate (a missing attribute, a type error) counts as applying. A `permit` that fails to
 * evaluate permits nothing.
 */

// V8 11 (Node 20) can abort the process ("Fatal error ... unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation) when optimized code that inlined a JS-to-Wasm call is
// deoptimized lazily during that call; every Cedar call is one. Turning that inlining off avoids the crash
// (reproduced here 6 times in 6 under load without it, 0 in 6 with it) and costs nothing measurable.
if (process.versions.v8.startsWith('11.')) setFlagsFromString('--no-turbo-inline-js-wasm-calls');

/** One parsed policy. */
export interface CedarPolicyInfo {
  /** Id inside the policy set (`p0`, `p1`, ...). */
  readonly id: string;
  /** `@id("...")` annotation, else `policy N (line L)`. */
  readonly label: string;
  readonly effect: 'permit' | 'forbid';
  readonly line: number;
  readonly json: cedar.PolicyJson;
}

/** What the Cedar policies say about one call. */
export interface CedarAnswer {
  effect: 'permit' | 'forbid' | 'none';
  /** Labels of the policies that decided it. */
  policies: string[];
  /** Evaluation errors, by policy label. */
  errors: string[];
}

/** What a Cedar decision needs about the call. */
export interface CedarRequest {
  agent: AgentConfig;
  tool: ToolConfig;
  call: ToolCall;
  actor: Actor;
  phase: string;
  taint: Tier;
  now: number;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, col: offset - last };
}

function parseFailure(text: string, origin: string, errors: readonly cedar.DetailedError[]): ConfigError {
  return new ConfigError(
    `${origin}: the Cedar policies do not parse`,
    errors.map((e) => {
      const loc = e.sourceLocations?.[0];
      const where = loc ? lineCol(text, loc.start) : undefined;
      const label = loc?.label ? ` (${loc.label})` : '';
      return {
        path: where ? `${origin} line ${where.line}, column ${where.col}` : origin,
        message: `${e.message}${label}`,
        ...(e.help
          ? { fix: e.help }
          : { fix: 'see https://docs.cedarpolicy.com/policies/syntax-policy.html' }),
      };
    }),
  );
}

/** Parses Cedar text into policies, or throws a ConfigError naming the line and column. */
export function parseCedarPolicies(text: string, origin: string): CedarPolicyInfo[] {
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') throw parseFailure(text, origin, parts.errors);
  if (parts.policy_templates.length > 0) {
    throw new ConfigError(`${origin}: Cedar templates are not supported`, [
      {
        path: origin,
        message: 'the policy set contains templates (?principal / ?resource slots)',
        fix: 'write static policies',
      },
    ]);
  }
  const out: CedarPolicyInfo[] = [];
  let cursor = 0;
  parts.policies.forEach((p, i) => {
    const at = text.indexOf(p, cursor);
    if (at >= 0) cursor = at + p.length;
    const line = at >= 0 ? lineCol(text, at).line : 0;
    const json = cedar.policyToJson(p);
    if (json.type === 'failure') throw parseFailure(p, `${origin} policy ${i + 1}`, json.errors);
    const annotated = json.json.annotations?.id;
    out.push({
      id: `p${i}`,
      label: annotated ? annotated : `policy ${i + 1}${line ? ` (line ${line})` : ''}`,
      effect: json.json.effect,
      line,
      json: json.json,
    });
  });
  return out;
}

/** Reads the `actions.cedar` text (inline or from a file relative to `baseDir`); undefined when none. */
export function readCedarSource(policy: Policy): { text: string; origin: string } | undefined {
  const c = policy.config.actions?.cedar;
  if (!c) return undefined;
  if (c.policies !== undefined) return { text: c.policies, origin: 'actions.cedar.policies' };
  const path = resolve(policy.baseDir, c.file as string);
  try {
    return { text: readFileSync(path, 'utf8'), origin: path };
  } catch (error) {
    throw new ConfigError('actions.cedar.file cannot be read', [
      {
        path: 'actions.cedar.file',
        message: `${path}: ${error instanceof Error ? error.message : String(error)}`,
        fix: 'check the path (relative to warden.yaml)',
      },
    ]);
  }
}

const RESERVED = new Set(['__entity', '__extn', '__expr']);
const MAX_DEPTH = 32;
const LONG_MAX = 9_223_372_036_854_775_807n;

/** Converts an argument value to a Cedar JSON value; undefined drops it. */
export function toCedarValue(v: unknown, depth = 0): cedar.CedarValueJson | undefined {
  if (depth > MAX_DEPTH) return undefined;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number': {
      if (!Number.isFinite(v)) return undefined;
      if (Number.isSafeInteger(v)) return v;
      if (Number.isInteger(v)) return String(v);
      const text = String(v);
      if (/^-?\d{1,14}\.\d{1,4}$/.test(text)) return { __extn: { fn: 'decimal', arg: text } };
      return text;
    }
    case 'bigint':
      return v <= LONG_MAX &&
        v >= -LONG_MAX - 1n &&
        v >= BigInt(Number.MIN_SAFE_INTEGER) &&
        v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    case 'object': {
      if (v === null) return undefined;
      if (Array.isArray(v)) {
        const out: cedar.CedarValueJson[] = [];
        for (const x of v) {
          const c = toCedarValue(x, depth + 1);
          if (c !== undefined) out.push(c);
        }
        return out;
      }
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj);
      let reserved = false;
      for (const k of keys) if (RESERVED.has(k)) reserved = true;
      if (reserved) {
        try {
          return JSON.stringify(obj);
        } catch {
          return undefined;
        }
      }
      const out: Record<string, cedar.CedarValueJson> = {};
      for (const k of keys) {
        const c = toCedarValue(obj[k], depth + 1);
        if (c !== undefined) out[k] = c;
      }
      return out;
    }
    default:
      return undefined;
  }
}

function toolId(tool: ToolConfig): string {
  return tool.server ? `${tool.server}/${tool.name}` : tool.name;
}

function entityIs(e: cedar.EntityUidJson, type: string, id: string): boolean {
  const x = '__entity' in e ? e.__entity : e;
  return x.type === type && x.id === id;
}

function scopeEntities(c: {
  entity?: cedar.EntityUidJson;
  entities?: cedar.EntityUidJson[];
}): cedar.EntityUidJson[] | undefined {
  if (c.entities) return c.entities;
  if (c.entity) return [c.entity];
  return undefined;
}

/** Whether a policy's scope can cover this agent and tool (conservative: unknown shapes count as yes). */
function inScope(p: cedar.PolicyJson, agent: AgentConfig, tool: ToolConfig): boolean {
  const pr = p.principal;
  if (pr.op === '==' && 'entity' in pr) {
    if (!entityIs(pr.entity, 'Agent', agent.id)) return false;
  } else if (pr.op === 'in' && 'entity' in pr) {
    const e = pr.entity;
    if (!entityIs(e, 'Agent', agent.id) && !agent.roles.some((r) => entityIs(e, 'Role', r))) return false;
  } else if (pr.op === 'is') {
    if (pr.entity_type !== 'Agent') return false;
  }
  const ac = p.action;
  if (ac.op === '==' && 'entity' in ac) {
    // `==` ignores the hierarchy: only the tool's own action matches.
    if (!entityIs(ac.entity, 'Action', tool.name)) return false;
  } else if (ac.op === 'in') {
    const list = scopeEntities(ac);
    if (list && !list.some((e) => entityIs(e, 'Action', tool.name) || entityIs(e, 'Action', tool.class)))
      return false;
  }
  const rs = p.resource;
  if (rs.op === '==' && 'entity' in rs) {
    if (!entityIs(rs.entity, 'Tool', toolId(tool))) return false;
  } else if (rs.op === 'is') {
    if (rs.entity_type !== 'Tool') return false;
  }
  return true;
}

let nextSetId = 0;

/** Whether a policy needs the request's entities (hierarchy or attributes), or only the request and context. */
function needsEntities(p: cedar.PolicyJson): boolean {
  if (p.principal.op === 'in' || p.action.op === 'in' || p.resource.op === 'in') return true;
  const body = JSON.stringify(p.conditions);
  return /"Var":"(principal|action|resource)"|"(in|is|hasTag|getTag)":/.test(body);
}

/** The policies in scope of one agent and tool, preparsed as their own set. */
interface ScopedSet {
  readonly setId: string | undefined;
  readonly permit: boolean;
  readonly forbid: boolean;
  readonly entities: boolean;
}

/**
 * A policy set parsed once and evaluated per call. Each (agent, tool) pair gets the subset of policies
 * whose scope can cover it, preparsed once (pairs with the same subset share it), so a call pays only for
 * the policies that can apply to it; entities are sent only when one of them reads them.
 */
export class CedarEngine {
  readonly policies: readonly CedarPolicyInfo[];
  private readonly byId: Map<string, CedarPolicyInfo>;
  private readonly scoped = new Map<string, Map<ToolConfig, ScopedSet>>();
  private readonly entityCache = new Map<string, Map<ToolConfig, cedar.EntityJson[]>>();

  constructor(policies: readonly CedarPolicyInfo[], policy: Policy, origin: string) {
    this.policies = policies;
    this.byId = new Map(policies.map((p) => [p.id, p]));
    const sets = new Map<string, ScopedSet>();
    const base = `warden-${process.pid}-${nextSetId++}-${randomUUID()}`;
    for (const agent of policy.config.agents) {
      const row = new Map<ToolConfig, ScopedSet>();
      for (const tool of policy.config.tools) {
        const subset = policies.filter((p) => inScope(p.json, agent, tool));
        const key = subset.map((p) => p.id).join(',');
        let set = sets.get(key);
        if (!set) {
          let setId: string | undefined;
          if (subset.length > 0) {
            setId = `${base}-${sets.size}`;
            const staticPolicies: Record<string, cedar.Policy> = {};
            for (const p of subset) staticPolicies[p.id] = p.json;
            const parsed = cedar.preparsePolicySet(setId, { staticPolicies });
            if (parsed.type === 'failure') throw parseFailure('', origin, parsed.errors);
          }
          set = {
            setId,
            permit: subset.some((p) => p.effect === 'permit'),
            forbid: subset.some((p) => p.effect === 'forbid'),
            entities: subset.some((p) => needsEntities(p.json)),
          };
          sets.set(key, set);
        }
        row.set(tool, set);
      }
      this.scoped.set(agent.id, row);
    }
  }

  /** Parses the configured Cedar source; undefined when the config has none. Throws ConfigError. */
  static fromPolicy(policy: Policy): CedarEngine | undefined {
    const src = readCedarSource(policy);
    if (!src) return undefined;
    return new CedarEngine(parseCedarPolicies(src.text, src.origin), policy, src.origin);
  }

  /** Which effects could apply to this agent and tool (from the policies' scopes). */
  relevant(agentId: string, tool: ToolConfig): { permit: boolean; forbid: boolean } {
    const s = this.scoped.get(agentId)?.get(tool);
    return s ? { permit: s.permit, forbid: s.forbid } : { permit: true, forbid: true };
  }

  /** Evaluates one call. Throws only when Cedar rejects the request itself (the stage fails closed). */
  evaluate(req: CedarRequest): CedarAnswer {
    const scoped = this.scoped.get(req.agent.id)?.get(req.tool);
    if (!scoped)
      throw new Error(`Cedar has no policy set for agent ${req.agent.id} and tool ${req.tool.name}`);
    if (scoped.setId === undefined) return { effect: 'none', policies: [], errors: [] };
    const args = toCedarValue(req.call.args) ?? {};
    const context: Record<string, cedar.CedarValueJson> = {
      args,
      phase: req.phase,
      taint: req.taint,
      now: req.now,
      session: req.actor.session,
      class: req.tool.class,
    };
    if (req.actor.user !== undefined) context.user = req.actor.user;
    if (req.actor.task !== undefined) context.task = req.actor.task;
    if (req.actor.tenant !== undefined) context.tenant = req.actor.tenant;
    const server = req.call.server ?? req.tool.server;
    if (server !== undefined) context.server = server;
    const answer = cedar.statefulIsAuthorized({
      principal: { type: 'Agent', id: req.agent.id },
      action: { type: 'Action', id: req.tool.name },
      resource: { type: 'Tool', id: toolId(req.tool) },
      context,
      entities: scoped.entities ? this.entities(req.agent, req.tool) : [],
      preparsedPolicySetId: scoped.setId,
    });
    if (answer.type === 'failure')
      throw new Error(`Cedar rejected the request: ${answer.errors.map((e) => e.message).join('; ')}`);
    const { decision, diagnostics } = answer.response;
    const errors: string[] = [];
    const failedForbids: string[] = [];
    for (const e of diagnostics.errors) {
      const p = this.byId.get(e.policyId);
      errors.push(`${p?.label ?? e.policyId}: ${e.error.message}`);
      if (!p || p.effect === 'forbid') failedForbids.push(p?.label ?? e.policyId);
    }
    const labels: string[] = [];
    for (const id of diagnostics.reason) labels.push(this.byId.get(id)?.label ?? id);
    if (failedForbids.length > 0)
      return {
        effect: 'forbid',
        policies: decision === 'deny' ? [...labels, ...failedForbids] : failedForbids,
        errors,
      };
    if (decision === 'allow') return { effect: 'permit', policies: labels, errors };
    return labels.length > 0
      ? { effect: 'forbid', policies: labels, errors }
      : { effect: 'none', policies: [], errors };
  }

  private entities(agent: AgentConfig, tool: ToolConfig): cedar.EntityJson[] {
    let row = this.entityCache.get(agent.id);
    if (!row) this.entityCache.set(agent.id, (row = new Map<ToolConfig, cedar.EntityJson[]>()));
    let list = row.get(tool);
    if (!list) {
      const toolAttrs: Record<string, cedar.CedarValueJson> = {
        class: tool.class,
        authoritative: tool.authoritative,
        outbound: tool.outbound,
      };
      if (tool.server !== undefined) toolAttrs.server = tool.server;
      list = [
        {
          uid: { type: 'Agent', id: agent.id },
          attrs: { owner: agent.owner, phase: agent.phase, roles: [...agent.roles] },
          parents: agent.roles.map((r) => ({ type: 'Role', id: r })),
        },
        {
          uid: { type: 'Action', id: tool.name },
          attrs: {},
          parents: tool.class === tool.name ? [] : [{ type: 'Action', id: tool.class }],
        },
        { uid: { type: 'Tool', id: toolId(tool) }, attrs: toolAttrs, parents: [] },
      ];
      row.set(tool, list);
    }
    return list;
  }
}

function escapeCedarChar(c: string): string {
  if (c === '"') return '\\"';
  if (c === '\\') return '\\\\';
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  const code = c.charCodeAt(0);
  if (code < 0x20 || code === 0x7f) return `\\u{${code.toString(16)}}`;
  return c;
}

/** A Cedar string literal. */
function cedarString(s: string): string {
  let out = '"';
  for (const c of s) out += escapeCedarChar(c);
  return out + '"';
}

/** A Cedar `like` literal for a glob (`*` and `**` become Cedar's wildcard; a literal `*` is escaped). */
function likePattern(glob: string, literalPrefix = false): string {
  let out = '"';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (literalPrefix) {
      out += c === '*' ? '\\*' : escapeCedarChar(c);
    } else if (c === '\\' && i + 1 < glob.length) {
      const n = glob[++i] as string;
      out += n === '*' ? '\\*' : escapeCedarChar(n);
    } else if (c === '*') {
      if (glob[i + 1] === '*') i++;
      out += '*';
    } else if (c === '?') {
      throw new TypeError('`?` in a glob has no Cedar equivalent');
    } else out += escapeCedarChar(c);
  }
  return out + (literalPrefix ? '*"' : '"');
}

function attr(path: string): { guard: string; access: string } {
  const segs = path.split('.');
  let access = 'context.args';
  const guards: string[] = [];
  for (const s of segs) {
    guards.push(`${access} has ${cedarString(s)}`);
    access = `${access}[${cedarString(s)}]`;
  }
  return { guard: guards.join(' && '), access };
}

function constraintToCedar(path: string, v: WhereValue): string {
  const { guard, access } = attr(path);
  const one = (x: string | number | boolean): string => {
    if (typeof x === 'string' && looksLikeGlob(x)) return `${access} like ${likePattern(x)}`;
    return `${access} == ${typeof x === 'string' ? cedarString(x) : String(x)}`;
  };
  if (typeof v !== 'object') return `(${guard} && ${one(v)})`;
  if (Array.isArray(v)) return `(${guard} && (${v.map(one).join(' || ')}))`;
  const parts: string[] = [];
  if (v.present === false) return `!(${guard})`;
  const eq = (x: string | number | boolean): string =>
    `${access} == ${typeof x === 'string' ? cedarString(x) : String(x)}`;
  if (v.equals !== undefined) parts.push(eq(v.equals));
  if (v.oneOf !== undefined) parts.push(`(${v.oneOf.map(eq).join(' || ')})`);
  if (v.glob !== undefined) parts.push(`${access} like ${likePattern(v.glob)}`);
  if (v.prefix !== undefined) parts.push(`${access} like ${likePattern(v.prefix, true)}`);
  if (v.min !== undefined) parts.push(`${access} >= ${Math.ceil(v.min)}`);
  if (v.max !== undefined) parts.push(`${access} <= ${Math.floor(v.max)}`);
  if (v.regex !== undefined || v.ignoreCase === true)
    throw new TypeError(`${path}: regex and ignoreCase have no Cedar equivalent`);
  return parts.length === 0 ? `(${guard})` : `(${guard} && ${parts.join(' && ')})`;
}

/**
 * Translates a grant into an equivalent Cedar policy (for reviews, migration and the equivalence tests).
 * Exact for string values, globs over values without `/`, and integer bounds on integer arguments.
 * Throws for what Cedar cannot say the same way (regex, ignoreCase, rate, until, server).
 */
export function grantToCedar(agentId: string, grant: Grant): string {
  if (grant.rate !== undefined || grant.until !== undefined || grant.server !== undefined) {
    throw new TypeError('rate, until and server have no Cedar equivalent here');
  }
  const tools = Array.isArray(grant.tool) ? grant.tool : [grant.tool];
  if (tools.some((t) => /[*?]/.test(t))) throw new TypeError('tool globs have no Cedar equivalent here');
  const action =
    tools.length === 1
      ? `action == Action::${cedarString(tools[0] as string)}`
      : `action in [${tools.map((t) => `Action::${cedarString(t)}`).join(', ')}]`;
  const conds = Object.entries(grant.where ?? {}).map(([p, v]) => constraintToCedar(p, v));
  const effect = grant.effect === 'deny' ? 'forbid' : 'permit';
  const when = conds.length > 0 ? ` when { ${conds.join(' && ')} }` : '';
  return `${effect}(principal == Agent::${cedarString(agentId)}, ${action}, resource)${when};`;
}
