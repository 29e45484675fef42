/**
 * Shapes shared by the tool-definition pinning, scanning and shadowing checks. Kept free of runtime code
 * so the MCP gateway can import them without pulling in the scanners.
 */

/**
 * An MCP tool definition as a server lists it (`tools/list`). Only the members that reach the model or the
 * user matter here; anything else the server sends is ignored by the scanner and by the digest.
 */
export interface ToolDefinition {
  name: string;
  /** Display name (MCP 2025-06). Shown to people, so it is pinned too. */
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

/** How bad one finding is on its own. `critical` is reserved for evidence nobody writes by accident. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * What a finding is about.
 * - `hidden-characters`: zero-width, bidirectional-control, Unicode-tag or other invisible code points.
 * - `planted-instruction`: text that commands the model (read a secret, hide something from the user,
 *   call something first, ignore its instructions, `<IMPORTANT>` blocks).
 * - `cross-tool-reference`: the definition talks about other tools or servers and changes how they are used.
 * - `out-of-scope-parameter`: a parameter asks the model for things the tool has no business receiving
 *   (its model name, system prompt, conversation, credentials, a free-form "sidenote" channel).
 * - `preference-manipulation`: the definition argues that the model should pick it over others.
 * - `suspicious-schema`: the shape itself is suspect (huge or unreadable text, external URL defaults,
 *   annotations that contradict the name, schemas too deep or large to inspect).
 * - `name-collision`: the name collides with, imitates or is confusable with another known tool's name,
 *   or the description is a copy of another tool's.
 */
export type FindingKind =
  | 'hidden-characters'
  | 'planted-instruction'
  | 'cross-tool-reference'
  | 'out-of-scope-parameter'
  | 'preference-manipulation'
  | 'suspicious-schema'
  | 'name-collision';

/** One reason to distrust a tool definition. */
export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** One sentence a reviewer can act on. */
  message: string;
  /** The offending text, shortened and with invisible characters made visible. */
  evidence: string;
  /** Where in the definition: `name`, `description`, `inputSchema.properties.x.description`, ... */
  location: string;
  /** Stable identifier of the rule that fired, for suppressions and statistics. */
  rule: string;
  /** The other tool involved, for collisions and references. */
  related?: { server: string; name: string };
}

/** What the scanner says about one definition. */
export interface ScanResult {
  /** 0 (nothing found) to 1; findings of different kinds compound, repeats of one kind do not. */
  score: number;
  /** True when `score` reaches the flag threshold: the gateway should not expose the tool unreviewed. */
  flagged: boolean;
  findings: Finding[];
}

/** A tool the gateway already knows about, on this or another server. */
export interface KnownTool {
  server: string;
  name: string;
  /** When given, copies of this description under another name are detected. */
  description?: string;
}

/** What the scanner may know besides the definition itself. */
export interface ScanContext {
  /** The server that offers the scanned definition. */
  server?: string;
  /**
   * Tools already known to the gateway. The scanner compares the definition against them; an entry with the
   * same server and name as the scanned definition is taken to be the same tool and skipped.
   */
  knownTools?: KnownTool[];
}

/** A definition together with the server that offers it. */
export interface ServerTool {
  server: string;
  def: ToolDefinition;
}
