import { posix } from 'node:path';
import type { Where, WhereValue } from '../../config/sections/actions.js';
import { compileGlob, looksLikeGlob } from './glob.js';

/**
 * Compiles `where:` constraints (grants, approval rules, pre-approved classes, caps) into matchers, once,
 * at load. At decision time a constraint costs a property walk and a compiled test.
 *
 * A constraint's answer on a value is `yes`, `no` or `unknown` (a value of the wrong shape, too long to
 * test safely). What `unknown` means depends on who asks, so that doubt always restricts:
 * an allow-list (`mode: 'allow'`) reads it as no, a deny-list (`mode: 'deny'`) as yes.
 * Arrays follow the same rule: an allow-list needs every element to match, a deny-list any one.
 */

/** Who asks: an allow-list (doubt = no match) or a deny-list (doubt = match). */
export type MatchMode = 'allow' | 'deny';

type Answer = 'yes' | 'no' | 'unknown';

/** Longest text a pattern is tested against; longer values are `unknown` (a guard against slow regexes). */
export const MAX_TESTED_LENGTH = 16_384;

/** One compiled argument constraint. */
export interface CompiledConstraint {
  /** The argument path as written (`repoId`, `target.repo`). */
  readonly path: string;
  /** The path split into members. */
  readonly segments: readonly string[];
  /** What the constraint says, for messages. */
  readonly describe: string;
  /** Set when the constraint is a plain value or list of values without case folding: used to index grants. */
  readonly exact?: readonly string[];
  /**
   * Index keys: every value the constraint accepts has one of them: `=<text>` (exactly that text) or
   * `/<segment>` (a path glob whose first segment is literal). Absent when some alternative has no key.
   */
  readonly indexKeys?: readonly string[];
  /** `present: false`: matches only when the argument is absent. */
  readonly absent: boolean;
  /** Tests one scalar value (never called with undefined). */
  testScalar(value: unknown): Answer;
}

/** A compiled `where:` block. */
export interface CompiledWhere {
  readonly constraints: readonly CompiledConstraint[];
  /** Whether every constraint holds for these arguments, read as the mode says. */
  test(args: Record<string, unknown>, mode: MatchMode): boolean;
  /** The constraints that do not hold (allow mode), for escalation messages. */
  failures(args: Record<string, unknown>): string[];
}

const EMPTY_WHERE: CompiledWhere = {
  constraints: [],
  test: () => true,
  failures: () => [],
};

/** Reads an argument by path: the whole path as one key first (`a.b` as a key), then member by member. */
export function readPath(args: Record<string, unknown>, path: string, segments: readonly string[]): unknown {
  if (Object.hasOwn(args, path)) return args[path];
  let cur: unknown = args;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, s))
      return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

/** Compiles a `where:` block. Throws TypeError on a pattern that cannot compile (the schema catches most). */
export function compileWhere(where: Where | undefined): CompiledWhere {
  if (where === undefined) return EMPTY_WHERE;
  const constraints = Object.entries(where).map(([path, value]) => compileConstraint(path, value));
  if (constraints.length === 0) return EMPTY_WHERE;
  return {
    constraints,
    test(args, mode) {
      for (const c of constraints) if (!holds(c, readPath(args, c.path, c.segments), mode)) return false;
      return true;
    },
    failures(args) {
      const out: string[] = [];
      for (const c of constraints) {
        const v = readPath(args, c.path, c.segments);
        if (!holds(c, v, 'allow'))
          out.push(
            `${c.path} must be ${c.describe}${v === undefined ? ' (absent)' : ` (got ${preview(v)})`}`,
          );
      }
      return out;
    },
  };
}

/** Whether one constraint holds for one argument value, under a mode. */
export function holds(c: CompiledConstraint, value: unknown, mode: MatchMode): boolean {
  if (value === undefined) return c.absent;
  if (c.absent) return false;
  if (Array.isArray(value)) {
    if (value.length === 0) return false;
    if (mode === 'allow') {
      for (const v of value) if (c.testScalar(v) !== 'yes') return false;
      return true;
    }
    for (const v of value) if (c.testScalar(v) !== 'no') return true;
    return false;
  }
  const a = c.testScalar(value);
  return a === 'yes' || (a === 'unknown' && mode === 'deny');
}

/** The text form of a scalar, or undefined for objects, null and functions. */
export function scalarText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && value.length < 64) {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** Normalises a path-like value before a path glob sees it, so `src/../secrets/x` is tested as `secrets/x`. */
export function normalisePathLike(text: string): string {
  if (!text.includes('/')) return text;
  if (!/(^|\/)\.{1,2}(\/|$)|\/\//.test(text)) return text;
  return posix.normalize(text);
}

function preview(v: unknown): string {
  try {
    const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return typeof v;
  }
}

type TextTest = (text: string) => boolean;

/** A test that passes when any of `tests` does (a plain loop: this runs on every decision). */
function anyOf(tests: readonly TextTest[]): TextTest {
  return (t) => {
    for (let i = 0; i < tests.length; i++) if ((tests[i] as TextTest)(t)) return true;
    return false;
  };
}

function textTest(
  kind: 'equals' | 'glob' | 'prefix' | 'regex',
  pattern: string,
  ignoreCase: boolean,
): TextTest {
  switch (kind) {
    case 'equals': {
      if (!ignoreCase) return (t) => t === pattern;
      const p = pattern.toLowerCase();
      return (t) => t.toLowerCase() === p;
    }
    case 'prefix': {
      if (!ignoreCase) return (t) => t.startsWith(pattern);
      const p = pattern.toLowerCase();
      return (t) => t.toLowerCase().startsWith(p);
    }
    case 'glob': {
      const re = compileGlob(pattern, { segmented: true, ignoreCase });
      return (t) => re.test(normalisePathLike(t));
    }
    case 'regex': {
      const re = new RegExp(`^(?:${pattern})$`, ignoreCase ? 'iu' : 'u');
      return (t) => re.test(t);
    }
  }
}

/** The index key of a path glob whose first segment is literal (`acme/*` -> `/acme`), else undefined. */
function globKey(glob: string): string | undefined {
  const slash = glob.indexOf('/');
  if (slash <= 0) return undefined;
  const first = glob.slice(0, slash);
  return /[*?\\]/.test(first) ? undefined : `/${first}`;
}

/** The index keys a value can be found under: its exact text, and the first segment of its normalised path. */
export function indexKeysOf(text: string): string[] {
  const keys = [`=${text}`];
  const norm = normalisePathLike(text);
  const slash = norm.indexOf('/');
  if (slash > 0) keys.push(`/${norm.slice(0, slash)}`);
  return keys;
}

/** One plain value in config: a glob when it contains `*`, else equality as text. */
function plainTest(
  value: string | number | boolean,
  ignoreCase: boolean,
): { test: TextTest; describe: string; exact?: string; key?: string } {
  const text = String(value);
  if (typeof value === 'string' && looksLikeGlob(value)) {
    const key = ignoreCase ? undefined : globKey(value);
    return {
      test: textTest('glob', value, ignoreCase),
      describe: `like ${JSON.stringify(value)}`,
      ...(key === undefined ? {} : { key }),
    };
  }
  return {
    test: textTest('equals', text, ignoreCase),
    describe: JSON.stringify(text),
    exact: text,
    key: `=${text}`,
  };
}

function compileConstraint(path: string, value: WhereValue): CompiledConstraint {
  const segments = path.split('.');
  const textTests: TextTest[] = [];
  const words: string[] = [];
  let exact: string[] | undefined;
  let indexKeys: string[] | undefined;
  let min: number | undefined;
  let max: number | undefined;
  let absent = false;

  if (typeof value !== 'object' || Array.isArray(value)) {
    const list = Array.isArray(value) ? value : [value];
    const parts = list.map((v) => plainTest(v, false));
    if (parts.every((p) => p.exact !== undefined)) exact = parts.map((p) => p.exact as string);
    if (parts.every((p) => p.key !== undefined)) indexKeys = parts.map((p) => p.key as string);
    textTests.push(
      parts.length === 1 ? (parts[0] as { test: TextTest }).test : anyOf(parts.map((p) => p.test)),
    );
    words.push(
      parts.length === 1
        ? (parts[0] as { describe: string }).describe
        : `one of ${parts.map((p) => p.describe).join(', ')}`,
    );
  } else {
    const ic = value.ignoreCase === true;
    if (value.equals !== undefined) {
      textTests.push(textTest('equals', String(value.equals), ic));
      words.push(JSON.stringify(String(value.equals)));
      if (!ic) exact = [String(value.equals)];
    }
    if (value.oneOf !== undefined) {
      textTests.push(anyOf(value.oneOf.map((v) => textTest('equals', String(v), ic))));
      words.push(`one of ${value.oneOf.map((v) => JSON.stringify(String(v))).join(', ')}`);
      if (!ic && exact === undefined) exact = value.oneOf.map(String);
    }
    if (exact !== undefined) indexKeys = exact.map((e) => `=${e}`);
    if (value.glob !== undefined) {
      const key = ic ? undefined : globKey(value.glob);
      if (indexKeys === undefined && key !== undefined) indexKeys = [key];
      textTests.push(textTest('glob', value.glob, ic));
      words.push(`like ${JSON.stringify(value.glob)}`);
    }
    if (value.prefix !== undefined) {
      textTests.push(textTest('prefix', value.prefix, ic));
      words.push(`starting with ${JSON.stringify(value.prefix)}`);
    }
    if (value.regex !== undefined) {
      textTests.push(textTest('regex', value.regex, ic));
      words.push(`matching /${value.regex}/`);
    }
    min = value.min;
    max = value.max;
    if (min !== undefined) words.push(`>= ${min}`);
    if (max !== undefined) words.push(`<= ${max}`);
    if (value.present === false) {
      absent = true;
      words.push('absent');
    } else if (value.present === true) {
      words.push('present');
    }
    // `exact` only narrows which grants are tested (an index); every candidate is still tested in full.
  }

  const hasText = textTests.length > 0;
  const hasNumber = min !== undefined || max !== undefined;
  const testScalar = (v: unknown): Answer => {
    if (hasNumber) {
      const n = numberOf(v);
      if (n === undefined) return 'unknown';
      if (min !== undefined && n < min) return 'no';
      if (max !== undefined && n > max) return 'no';
    }
    if (hasText) {
      const t = scalarText(v);
      if (t === undefined || t.length > MAX_TESTED_LENGTH) return 'unknown';
      for (const f of textTests) if (!f(t)) return 'no';
    }
    return 'yes';
  };
  const c: CompiledConstraint = {
    path,
    segments,
    describe: words.join(' and ') || 'present',
    absent,
    testScalar,
    ...(exact === undefined ? {} : { exact }),
    ...(indexKeys === undefined ? {} : { indexKeys }),
  };
  return c;
}
