/**
 * A bounded walk over a JSON Schema (or any JSON-like value) that collects what the scanner reads: every
 * string the model will see, every declared property, and literal values that point somewhere. Iterative,
 * with limits on depth, node count and collected text, so a hostile schema cannot exhaust the stack or memory.
 */

/** Limits for one walk. */
export interface WalkLimits {
  maxDepth: number;
  maxNodes: number;
  maxStrings: number;
  maxStringChars: number;
}

/** Defaults: generous for real schemas (which are a few levels deep and a few hundred nodes). */
export const DEFAULT_WALK_LIMITS: WalkLimits = {
  maxDepth: 32,
  maxNodes: 20_000,
  maxStrings: 2_000,
  maxStringChars: 262_144,
};

/** A string found in the schema, with its JSON path. */
export interface SchemaString {
  path: string;
  /** `text` for descriptions, titles and other prose; `value` for defaults, examples, enum and const members. */
  role: 'text' | 'value';
  value: string;
}

/** A declared property (`properties.<name>`) at any depth. */
export interface SchemaProperty {
  path: string;
  name: string;
  depth: number;
  description?: string;
  schema: Record<string, unknown>;
}

/** What the walk found, and whether it had to stop early. */
export interface SchemaWalk {
  strings: SchemaString[];
  properties: SchemaProperty[];
  nodes: number;
  maxDepthSeen: number;
  /** Set when a limit was reached: part of the schema was not inspected. */
  truncated?: 'depth' | 'nodes' | 'strings';
}

/** Children queued per object or array at most; the rest count as not inspected. */
const MAX_CHILDREN = 2_000;

const PROSE_KEYS = new Set([
  'description',
  'title',
  '$comment',
  'markdownDescription',
  'errorMessage',
  'deprecationMessage',
]);
const VALUE_KEYS = new Set(['default', 'examples', 'example', 'enum', 'const']);
/** Keywords whose members are named subschemas: their keys are names, not keywords. */
const NAME_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pathJoin(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Walk `root` (found at `rootPath`) within `limits`. Never throws on odd input. */
export function walkSchema(
  root: unknown,
  rootPath: string,
  limits: WalkLimits = DEFAULT_WALK_LIMITS,
): SchemaWalk {
  const out: SchemaWalk = { strings: [], properties: [], nodes: 0, maxDepthSeen: 0 };
  let chars = 0;
  const seen = new Set<object>();
  // Each stack entry: value, path, depth, and the role strings directly under it get.
  // `names` marks an object whose keys are names (a `properties` map), so `description` there is a property.
  const stack: {
    value: unknown;
    path: string;
    depth: number;
    role: 'text' | 'value' | 'none';
    names: boolean;
  }[] = [{ value: root, path: rootPath, depth: 0, role: 'none', names: false }];
  const addString = (path: string, role: 'text' | 'value', value: string): void => {
    if (out.strings.length >= limits.maxStrings || chars >= limits.maxStringChars) {
      out.truncated ??= 'strings';
      return;
    }
    const room = limits.maxStringChars - chars;
    const kept = value.length > room ? value.slice(0, room) : value;
    chars += kept.length;
    out.strings.push({ path, role, value: kept });
  };
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined) break;
    const { value, path, depth, role, names } = item;
    if (++out.nodes > limits.maxNodes) {
      out.truncated ??= 'nodes';
      break;
    }
    if (depth > out.maxDepthSeen) out.maxDepthSeen = depth;
    if (typeof value === 'string') {
      if (role !== 'none') addString(path, role, value);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (seen.has(value)) continue;
    seen.add(value);
    if (depth >= limits.maxDepth) {
      out.truncated ??= 'depth';
      continue;
    }
    if (Array.isArray(value)) {
      const room = Math.max(0, Math.min(MAX_CHILDREN, limits.maxNodes - out.nodes));
      if (value.length > room) out.truncated ??= 'nodes';
      for (let i = Math.min(value.length, room) - 1; i >= 0; i--) {
        stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1, role, names: false });
      }
      continue;
    }
    let keys = Object.keys(value);
    // Never queue more children than the node budget has room for: a map of a million keys stops here.
    const room = Math.min(MAX_CHILDREN, limits.maxNodes - out.nodes);
    if (keys.length > room) {
      keys = keys.slice(0, Math.max(0, room));
      out.truncated ??= 'nodes';
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i] ?? '';
      const child = (value as Record<string, unknown>)[key];
      const childPath = pathJoin(path, key);
      if (key === 'properties' && isRecord(child) && role === 'none' && !names) {
        for (const name of Object.keys(child).slice(
          0,
          Math.max(0, limits.maxStrings - out.properties.length),
        )) {
          const prop = child[name];
          if (!isRecord(prop)) continue;
          const description = typeof prop['description'] === 'string' ? prop['description'] : undefined;
          if (out.properties.length < limits.maxStrings) {
            out.properties.push({
              path: pathJoin(childPath, name),
              name,
              depth: depth + 1,
              schema: prop,
              ...(description === undefined ? {} : { description }),
            });
          }
        }
      }
      const childRole: 'text' | 'value' | 'none' =
        role !== 'none'
          ? role
          : names
            ? 'none'
            : PROSE_KEYS.has(key)
              ? 'text'
              : VALUE_KEYS.has(key)
                ? 'value'
                : 'none';
      const childNames = role === 'none' && !names && NAME_MAPS.has(key);
      stack.push({ value: child, path: childPath, depth: depth + 1, role: childRole, names: childNames });
    }
  }
  return out;
}
