/**
 * Pinning MCP tool definitions against rug pulls: a server that changes a tool's description or schema after
 * it was reviewed changes what the model is told, so every member the model or the user sees is digested and
 * compared with the pinned digest on each `tools/list`.
 */
import { canonicalJson, sha256Hex } from '../../core/canonical.js';
import { WardenError } from '../../core/errors.js';
import type { ToolDefinition } from './types.js';

/** Bumped if the digested members ever change, so old pins read as changed rather than silently equal. */
const DIGEST_VERSION = 1;

/**
 * SHA-256 (hex) of the canonical JSON of a definition's name, title, description, input and output schemas
 * and annotations. Key order does not matter; any other change, including an invisible character, does.
 * Members the server sends besides these (`_meta`, icons) are not pinned. Throws `WardenError`
 * (`INVALID_ARGUMENT`) for a definition that is not canonical JSON (too deep, non-finite numbers, ...).
 */
export function toolDefinitionDigest(def: ToolDefinition): string {
  if (typeof def !== 'object' || def === null || typeof def.name !== 'string') {
    throw new WardenError('INVALID_ARGUMENT', 'a tool definition needs a string name to be pinned');
  }
  const pinned = {
    v: DIGEST_VERSION,
    name: def.name,
    title: def.title,
    description: def.description,
    inputSchema: def.inputSchema,
    outputSchema: def.outputSchema,
    annotations: def.annotations,
  };
  let json: string;
  try {
    json = canonicalJson(pinned);
  } catch (cause) {
    throw new WardenError(
      'INVALID_ARGUMENT',
      `tool "${def.name}" cannot be pinned: ${(cause as Error).message}`,
      {
        cause,
        hint: 'The definition must be plain JSON of reasonable depth.',
      },
    );
  }
  return sha256Hex(json);
}

/** Pins for a set of definitions: tool name to digest. Throws like `toolDefinitionDigest`, and on duplicate names. */
export function pinToolDefinitions(defs: readonly ToolDefinition[]): Record<string, string> {
  const pins: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const def of defs) {
    const digest = toolDefinitionDigest(def);
    if (Object.hasOwn(pins, def.name)) {
      throw new WardenError(
        'INVALID_ARGUMENT',
        `tool "${def.name}" is listed twice; a server must not offer two tools under one name`,
      );
    }
    pins[def.name] = digest;
  }
  return pins;
}

/** A tool whose definition no longer matches its pin. */
export interface ChangedPin {
  name: string;
  pinned: string;
  /** Null when the current definition could not be digested at all. */
  current: string | null;
}

/** Outcome of comparing a server's current tools with their pins. */
export interface PinComparison {
  /** Listed now, not pinned: needs review before the model sees it. */
  added: { name: string; digest: string | null }[];
  /** Pinned, no longer listed. */
  removed: { name: string; pinned: string }[];
  /** Pinned and listed, with a different definition: a possible rug pull. */
  changed: ChangedPin[];
  unchanged: { name: string; digest: string }[];
  /** Names listed more than once now (each such tool is also reported as added or changed). */
  duplicates: string[];
  /** Definitions that could not be digested, with the reason (also reported as added or changed). */
  invalid: { name: string; reason: string }[];
  /** True when anything differs from the pins: the gateway should not pass the list through unreviewed. */
  drift: boolean;
}

/**
 * Compare current definitions with pins (tool name to digest, as from `pinToolDefinitions`). Fails closed:
 * a definition that cannot be digested, or a name listed twice, never counts as unchanged.
 */
export function comparePins(
  pinned: Readonly<Record<string, string>>,
  current: readonly ToolDefinition[],
): PinComparison {
  const pins = new Map<string, string>();
  for (const key of Object.keys(pinned)) {
    const value = pinned[key];
    if (typeof value === 'string') pins.set(key, value);
  }
  const out: PinComparison = {
    added: [],
    removed: [],
    changed: [],
    unchanged: [],
    duplicates: [],
    invalid: [],
    drift: false,
  };
  const counts = new Map<string, number>();
  for (const def of current) {
    const name = typeof def?.name === 'string' ? def.name : '';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const done = new Set<string>();
  for (const def of current) {
    const name = typeof def?.name === 'string' ? def.name : '';
    if (done.has(name)) continue;
    done.add(name);
    let digest: string | null = null;
    try {
      digest = toolDefinitionDigest(def);
    } catch (err) {
      out.invalid.push({ name, reason: err instanceof Error ? err.message : String(err) });
    }
    const duplicate = (counts.get(name) ?? 0) > 1;
    if (duplicate) out.duplicates.push(name);
    const pin = pins.get(name);
    if (pin === undefined) out.added.push({ name, digest });
    else if (digest === pin && !duplicate) out.unchanged.push({ name, digest });
    else out.changed.push({ name, pinned: pin, current: digest });
  }
  for (const [name, pin] of pins) if (!done.has(name)) out.removed.push({ name, pinned: pin });
  out.drift =
    out.added.length + out.removed.length + out.changed.length + out.duplicates.length + out.invalid.length >
    0;
  return out;
}
