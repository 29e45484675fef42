/**
 * What one client connection knows about the servers behind it: their tools (with client-facing names,
 * definition statuses and visibility), prompts and resources, so requests route to the right server under
 * that server's own names. Rebuilt on `tools/list` and after a server says its list changed.
 */
import type { DefinitionStatus } from './definitions.js';
import { assignNames, type Named } from './namespace.js';
import type { HiddenBecause } from './tool-filter.js';
import type { Upstream } from './upstream.js';

/** One tool as the connection knows it. */
export interface ToolEntry {
  /** Name the client sees. */
  exposed: string;
  server: string;
  /** Name on the server. */
  name: string;
  /** The definition as the server listed it. */
  def: Record<string, unknown>;
  status: DefinitionStatus | undefined;
  hidden: HiddenBecause;
  up: Upstream;
}

/** One prompt. */
export interface PromptEntry {
  exposed: string;
  name: string;
  up: Upstream;
}

/** The tools of a connection. */
export class ToolCatalog {
  private byExposed = new Map<string, ToolEntry>();
  private byServerTool = new Map<string, ToolEntry>();
  /** False until the first list; true after a server announced a change. */
  built = false;
  stale = true;

  /** Replaces the catalog. `dropped` are items whose names could not be exposed. */
  replace(entries: readonly Omit<ToolEntry, 'exposed'>[], mode: 'auto' | 'always'): { dropped: string[] } {
    const named: Named<Omit<ToolEntry, 'exposed'>>[] = entries.map((e) => ({
      server: e.server,
      name: e.name,
      item: e,
    }));
    const { exposed, dropped } = assignNames(named, mode);
    this.byExposed = new Map();
    this.byServerTool = new Map();
    for (const x of exposed) {
      const entry: ToolEntry = { ...x.item, exposed: x.exposed };
      this.byExposed.set(x.exposed, entry);
      this.byServerTool.set(`${entry.server}\u0000${entry.name}`, entry);
    }
    this.built = true;
    this.stale = false;
    return { dropped: dropped.map((d) => `${d.server}/${d.name}`) };
  }

  /** The tool the client calls by this name. */
  resolve(exposed: string): ToolEntry | undefined {
    return this.byExposed.get(exposed);
  }

  /** The tool by its server and own name. */
  byServer(server: string, tool: string): ToolEntry | undefined {
    return this.byServerTool.get(`${server}\u0000${tool}`);
  }

  /** Every tool, in list order. */
  all(): ToolEntry[] {
    return [...this.byExposed.values()];
  }
}

/** Prompts and resources of a connection with several servers. */
export class ContentCatalog {
  prompts = new Map<string, PromptEntry>();
  resources = new Map<string, Upstream>();
  templates: { pattern: RegExp; up: Upstream }[] = [];

  /** Sets the prompts (namespaced like tools). */
  setPrompts(
    items: readonly { up: Upstream; name: string }[],
    mode: 'auto' | 'always',
  ): Map<Upstream, Map<string, string>> {
    const { exposed } = assignNames(
      items.map((i) => ({ server: i.up.name, name: i.name, item: i })),
      mode,
    );
    this.prompts = new Map();
    const renames = new Map<Upstream, Map<string, string>>();
    for (const x of exposed) {
      this.prompts.set(x.exposed, { exposed: x.exposed, name: x.name, up: x.item.up });
      let m = renames.get(x.item.up);
      if (!m) renames.set(x.item.up, (m = new Map<string, string>()));
      m.set(x.name, x.exposed);
    }
    return renames;
  }

  /** Adds a template (RFC 6570 level 1 is enough to route: each expression matches one or more characters). */
  addTemplate(template: string, up: Upstream): void {
    if (template.length > 2048) return;
    const source = template
      .split(/(\{[^}]*\})/)
      .map((part) => (part.startsWith('{') ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
    this.templates.push({ pattern: new RegExp(`^${source}$`), up });
  }

  /** The server that offers a resource URI. */
  routeUri(uri: string): Upstream | undefined {
    const exact = this.resources.get(uri);
    if (exact) return exact;
    for (const t of this.templates) if (t.pattern.test(uri)) return t.up;
    return undefined;
  }
}
