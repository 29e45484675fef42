import type { Tier } from '../core/types.js';
import type { AgentConfig, SourceConfig, ToolConfig, WardenConfig } from './schema.js';

/** Built-in sources that exist even when not declared. */
const BUILTIN_SOURCES: readonly SourceConfig[] = [
  { name: 'system', tier: 1 },
  { name: 'user', tier: 1 },
];

/**
 * The configuration compiled into lookup tables once, at load time, so that the hot path does map lookups
 * and nothing else.
 */
export class Policy {
  readonly config: WardenConfig;
  /** Directory relative paths in the config (Cedar files, ...) resolve against. */
  readonly baseDir: string;
  private readonly agents = new Map<string, AgentConfig>();
  private readonly tools = new Map<string, ToolConfig>();
  private readonly sources = new Map<string, SourceConfig>();

  constructor(config: WardenConfig, baseDir: string = process.cwd()) {
    this.config = config;
    this.baseDir = baseDir;
    for (const a of config.agents) this.agents.set(a.id, a);
    for (const t of config.tools) {
      this.tools.set(t.server ? `${t.server}/${t.name}` : t.name, t);
      if (!this.tools.has(t.name)) this.tools.set(t.name, t);
    }
    for (const s of BUILTIN_SOURCES) this.sources.set(s.name, s);
    for (const s of config.sources) this.sources.set(s.name, s);
  }

  /** The agent, or undefined when it is not configured (a shadow agent). */
  agent(id: string): AgentConfig | undefined {
    return this.agents.get(id);
  }

  /** All configured agents. */
  allAgents(): AgentConfig[] {
    return [...this.agents.values()];
  }

  /** The tool, looked up as `server/name` first, then by bare name. */
  tool(name: string, server?: string): ToolConfig | undefined {
    if (server !== undefined) {
      const scoped = this.tools.get(`${server}/${name}`);
      if (scoped) return scoped;
    }
    return this.tools.get(name);
  }

  /** The source, or undefined when it is not configured. */
  source(name: string): SourceConfig | undefined {
    return this.sources.get(name);
  }

  /** Tier of content from a source; unknown sources are tier 3 (never trusted by accident). */
  sourceTier(name: string): Tier {
    return this.sources.get(name)?.tier ?? 3;
  }

  /** Tier of a tool's results: declared, else 2 for authoritative tools, else 3. */
  toolResultTier(tool: ToolConfig | undefined): Tier {
    if (!tool) return 3;
    return tool.tier ?? (tool.authoritative ? 2 : 3);
  }
}
