/**
 * Extraction of identifier-like values (ids, names, numbers) from tool results, user text and call
 * arguments, bounded so that a huge result costs a fixed amount of work.
 */

/** Characters that separate identifiers in free text (MCP results are often JSON inside text). */
const SEPARATORS = /[^A-Za-z0-9._:/@#+-]+/;
const MAX_TOKEN = 128;
const MIN_TOKEN = 2;

/** Normalises a value for comparison: strings trimmed, numbers in canonical decimal form. */
export function normaliseValue(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const n = value.length;
    if (n === 0 || n > 512) return undefined;
    // Trim only when needed: most values have no surrounding whitespace, and trimming allocates.
    const t = value.charCodeAt(0) <= 32 || value.charCodeAt(n - 1) <= 32 ? value.trim() : value;
    return t.length === 0 || t.length > 256 ? undefined : t;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

/** A string with no separator in it: the whole string is one token. */
const SINGLE_TOKEN = /^[A-Za-z0-9._:/@#+-]*$/;
const TRAILING = /[.:/@#+-]+$/;

/** Adds the tokens of a text to `out`, at most `budget` of them; returns the budget left. */
export function addTokens(text: string, out: (v: string) => void, budget: number): number {
  if (budget <= 0) return 0;
  const whole = normaliseValue(text);
  if (whole !== undefined) {
    out(whole);
    budget--;
  }
  // Most values in tool results are single tokens already (ids, names, numbers): no split, no allocation.
  if (budget <= 0 || (text.length <= MAX_TOKEN && SINGLE_TOKEN.test(text))) return budget;
  // Bounded scan: a megabyte of text is not worth more than the first 64 KB for this purpose.
  const slice = text.length > 65_536 ? text.slice(0, 65_536) : text;
  for (const raw of slice.split(SEPARATORS)) {
    if (budget <= 0) break;
    if (raw.length < MIN_TOKEN || raw.length > MAX_TOKEN + 8) continue;
    // Trailing punctuation in prose ("id abc-1.") is not part of the identifier.
    const last = raw.charCodeAt(raw.length - 1);
    const token =
      (last >= 48 && last <= 57) || (last >= 65 && last <= 90) || (last >= 97 && last <= 122)
        ? raw
        : raw.replace(TRAILING, '');
    if (token.length < MIN_TOKEN || token.length > MAX_TOKEN || token === whole) continue;
    out(token);
    budget--;
  }
  return budget;
}

/**
 * Walks a JSON-like value and hands every scalar (and the tokens of longer strings) to `out`.
 * Stops after `maxNodes` nodes or `maxValues` values.
 */
export function collectValues(
  value: unknown,
  out: (v: string) => void,
  maxNodes = 2_000,
  maxValues = 2_000,
): void {
  const budget = { nodes: maxNodes, values: maxValues };
  walk(value, out, budget, 0);
}

function walk(
  v: unknown,
  out: (v: string) => void,
  budget: { nodes: number; values: number },
  depth: number,
): void {
  if (budget.nodes <= 0 || budget.values <= 0) return;
  budget.nodes--;
  if (typeof v === 'string') {
    budget.values = addTokens(v, out, budget.values);
  } else if (typeof v === 'number' || typeof v === 'bigint') {
    const n = normaliseValue(v);
    if (n !== undefined) {
      out(n);
      budget.values--;
    }
  } else if (v !== null && typeof v === 'object' && depth < 32) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length && budget.nodes > 0; i++) walk(v[i], out, budget, depth + 1);
    } else {
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (budget.nodes <= 0) break;
        if (Object.prototype.hasOwnProperty.call(o, k)) walk(o[k], out, budget, depth + 1);
      }
    }
  }
}

/** The value at a dotted path (`repo.id`), or undefined. */
export function valueAt(args: Record<string, unknown>, path: string): unknown {
  if (!path.includes('.')) return args[path];
  let cur: unknown = args;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * True for a value that looks like an identifier rather than prose or a flag: a string of 3 to 128 characters
 * without whitespace that mixes letters with digits or separators (`repo-8812`, `INV_2041`, `a1b2c3`,
 * `org/repo`). Bare numbers and plain words are left alone unless the tool names them in `identifiers`: on
 * their own they say too little to be worth an alert.
 */
export function looksLikeIdentifier(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value.length < 3 || value.length > MAX_TOKEN || /\s/.test(value)) return false;
  return /[A-Za-z]/.test(value) && /[0-9_:/@#.-]/.test(value);
}
