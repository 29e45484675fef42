import type { Policy } from '../config/policy.js';
import type { ToolConfig } from '../config/schema.js';
import { trustSectionSchema, type TrustSection } from '../config/sections/trust.js';
import { ConfigError } from '../core/errors.js';
import type { Tier } from '../core/types.js';
import { compileIdentifiers, type IdentifierSpec } from './identifiers.js';
import type { ProvenanceClass } from './provenance/index.js';

/** A tool's trust facts, compiled once so the decision path does field reads only. */
export interface CompiledTool {
  readonly config: ToolConfig;
  /** Restricted under taint (tier 2: `taint.tier2`, tier 3: `taint.tier3`). */
  readonly sensitive: boolean;
  /** Changes something or sends something out (class write or irreversible, or `outbound: true`). */
  readonly consequential: boolean;
  /** Its identifier arguments go through the verification gate. */
  readonly verify: boolean;
  readonly identifiers: IdentifierSpec;
  readonly outbound: boolean;
  /** Tier its results are labelled with (before a caller's lower `tier`). */
  readonly resultTier: Tier;
  /** Class of the values in its results. */
  readonly resultClass: ProvenanceClass;
  /** Field rules for its results. */
  readonly fields: readonly { path: readonly string[]; cls: ProvenanceClass }[];
  readonly hasUntrustedFields: boolean;
  /** Its results only acknowledge the call (`trust.tools.<name>.echo`). */
  readonly echo: boolean;
  /** Its results are private (for output inspection). */
  readonly private: boolean;
}

/** Class of content values by tier: a tier is where content comes from; a class is what a value can vouch for. */
export function classOfTier(tier: Tier): ProvenanceClass {
  return tier === 1 ? 'tier1' : tier === 2 ? 'tier2' : 'tier3';
}

/** Matches hosts against the output allow-list. */
export class DomainAllowList {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];

  constructor(patterns: readonly string[]) {
    for (const raw of patterns) {
      const p = raw.toLowerCase().replace(/\.$/, '');
      if (p.startsWith('*.')) this.suffixes.push(p.slice(1));
      else {
        this.exact.add(p);
        this.suffixes.push('.' + p);
      }
    }
  }

  /** True when the host is on the list. */
  allows(host: string): boolean {
    const h = host.toLowerCase().replace(/\.$/, '');
    if (this.exact.has(h)) return true;
    for (const s of this.suffixes) if (h.endsWith(s)) return true;
    return false;
  }
}

function fieldPath(spec: string): string[] {
  return spec
    .replace(/\[\d*\]/g, '')
    .split('.')
    .filter((s) => s.length > 0 && s !== '*');
}

/**
 * The `trust:` section with the tool list folded in. Built once at start; unknown tools named under `trust.tools`
 * or `output.privateTools` stop the start with a `ConfigError` (a typo must not silently drop a control).
 */
export class TrustSettings {
  readonly section: TrustSection;
  readonly allowList: DomainAllowList;
  readonly privateSources: ReadonlySet<string>;
  private readonly policy: Policy;
  private readonly compiled = new Map<ToolConfig, CompiledTool>();
  private readonly privateTools = new Set<ToolConfig>();
  private readonly toolSections = new Map<ToolConfig, TrustSection['tools'][string]>();

  constructor(policy: Policy, section?: TrustSection) {
    this.policy = policy;
    this.section = section ?? trustSectionSchema.parse(policy.config.trust ?? {});
    this.allowList = new DomainAllowList(this.section.output.allowDomains);
    this.privateSources = new Set(this.section.output.privateSources);
    const problems: { path: string; message: string; fix?: string }[] = [];
    const resolve = (ref: string, path: string): ToolConfig | undefined => {
      const slash = ref.indexOf('/');
      const t = slash > 0 ? policy.tool(ref.slice(slash + 1), ref.slice(0, slash)) : policy.tool(ref);
      if (!t)
        problems.push({
          path,
          message: `names tool \`${ref}\`, which is not declared under tools`,
          fix: 'declare the tool or fix the name',
        });
      return t;
    };
    for (const [name, entry] of Object.entries(this.section.tools)) {
      const t = resolve(name, `trust.tools.${name}`);
      if (t) this.toolSections.set(t, entry);
    }
    this.section.output.privateTools.forEach((name, i) => {
      const t = resolve(name, `trust.output.privateTools[${i}]`);
      if (t) this.privateTools.add(t);
    });
    if (problems.length > 0) throw new ConfigError('the trust section does not validate', problems);
    for (const t of policy.config.tools) this.compile(t);
  }

  /** The compiled facts of a configured tool. */
  tool(config: ToolConfig): CompiledTool {
    return this.compiled.get(config) ?? this.compile(config);
  }

  private compile(t: ToolConfig): CompiledTool {
    const s = this.section;
    const extra = this.toolSections.get(t);
    const consequential = t.class !== 'read' || t.outbound;
    const sensitive =
      t.sensitive ??
      (s.taint.sensitiveClasses.includes(t.class) || (s.taint.credentialTools && t.credentials));
    const identifiers = compileIdentifiers(t.identifiers, s.verification.inferIdentifiers);
    const verify =
      s.verification.enabled &&
      identifiers.kind !== 'none' &&
      (s.verification.classes.includes(t.class) || (t.identifiers !== undefined && t.identifiers.length > 0));
    const resultTier = this.policy.toolResultTier(t);
    const resultClass: ProvenanceClass = t.authoritative ? 'authoritative' : classOfTier(resultTier);
    const fields: { path: readonly string[]; cls: ProvenanceClass }[] = [];
    for (const f of extra?.untrustedFields ?? []) fields.push({ path: fieldPath(f), cls: 'tier3' });
    for (const f of extra?.authoritativeFields ?? [])
      fields.push({ path: fieldPath(f), cls: 'authoritative' });
    const compiled: CompiledTool = {
      config: t,
      sensitive,
      consequential,
      verify,
      identifiers,
      outbound: t.outbound,
      resultTier,
      resultClass,
      fields: fields.filter((f) => f.path.length > 0),
      hasUntrustedFields: (extra?.untrustedFields.length ?? 0) > 0,
      echo: extra?.echo === true,
      private: resultTier <= 2 || this.privateTools.has(t) || extra?.private === true,
    };
    this.compiled.set(t, compiled);
    return compiled;
  }
}
