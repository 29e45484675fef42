import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, digest, jsonString, sha256Hex } from '../../src/core/canonical.js';

/**
 * The original canonicalJson, kept verbatim as the oracle: stored ledger hashes and approval digests were
 * computed with it, so the optimised one must give the same bytes, and throw the same errors, for every value.
 */
function originalCanonicalJson(value: unknown): string {
  return originalWrite(value, 0);
}

function originalWrite(value: unknown, depth: number): string {
  if (depth > 256) throw new TypeError('value is nested too deeply to canonicalise');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('non-finite number is not JSON');
      return JSON.stringify(value);
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'object': {
      if (Array.isArray(value))
        return '[' + value.map((v: unknown) => originalWrite(v ?? null, depth + 1)).join(',') + ']';
      if (value instanceof Date) return JSON.stringify(value.toISOString());
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function')
        .sort();
      return (
        '{' + keys.map((k) => JSON.stringify(k) + ':' + originalWrite(obj[k], depth + 1)).join(',') + '}'
      );
    }
    default:
      throw new TypeError(`a ${typeof value} is not JSON`);
  }
}

/** The outcome of a function: its value, or the class and message of what it threw. */
function outcome(f: () => string): { value: string } | { error: string } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** Strings that exercise every branch of the quoting: escapes, control characters, lone and paired surrogates. */
const awkwardString = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\ud800', '\udc00', 'a'),
  }),
  fc.string({ unit: 'binary', minLength: 90, maxLength: 200 }),
);

const anything = fc.anything({
  key: awkwardString,
  values: [awkwardString, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined)],
  withBigInt: true,
  withDate: true,
  withNullPrototype: true,
  withSparseArray: true,
  withBoxedValues: true,
  withMap: true,
  withSet: true,
  withTypedArray: true,
  withObjectString: true,
  maxDepth: 4,
});

describe('canonicalJson', () => {
  it('gives the same bytes as the original on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(value)).toBe(originalCanonicalJson(value));
      }),
      { numRuns: 3_000 },
    );
  });

  it('gives what the original gives, or throws what it throws, on arbitrary values', () => {
    fc.assert(
      fc.property(anything, (value) => {
        expect(outcome(() => canonicalJson(value))).toEqual(outcome(() => originalCanonicalJson(value)));
      }),
      { numRuns: 3_000 },
    );
  });

  it('agrees with the original on the awkward cases', () => {
    const sparse: unknown[] = [1];
    sparse[3] = 4;
    const deep: unknown[] = [];
    let cursor = deep;
    for (let i = 0; i < 300; i++) {
      const next: unknown[] = [];
      cursor.push(next);
      cursor = next;
    }
    const cases: unknown[] = [
      sparse,
      [undefined, () => 1],
      { a: undefined, b: () => 1, c: 1 },
      { s: Symbol('x') },
      [Symbol('x')],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      [0.1, 1e21, 1e-7, 5e-324, -1.5e300, 2 ** 53],
      10n ** 30n,
      -5n,
      new Date(0),
      new Date(Number.NaN),
      Object.create(null) as unknown,
      deep,
      { '': 1, '\u0000': 2, é: 3, e: 4, E: 5, '10': 6, '9': 7 },
      'x'.repeat(96) + '"',
      'y'.repeat(97),
      '\ud83d\ude00 paired, \ud83d lone',
      Buffer.from('hi'),
      new Map([[1, 2]]),
      Object.assign(Object.create({ inherited: 1 }) as object, { own: 2 }),
    ];
    for (const value of cases) {
      expect(outcome(() => canonicalJson(value))).toEqual(outcome(() => originalCanonicalJson(value)));
    }
    expect(canonicalJson(sparse)).toBe('[1,,,4]');
    // More member names than the quoted-name cache holds, twice: cached and uncached names alike.
    const wide = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}"\\${i % 7}`, i]));
    expect(canonicalJson(wide)).toBe(originalCanonicalJson(wide));
    expect(canonicalJson(wide)).toBe(originalCanonicalJson(wide));
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":2,"d":1}]}');
  });
});

describe('jsonString', () => {
  it('is JSON.stringify for every string', () => {
    fc.assert(
      fc.property(awkwardString, (text) => {
        expect(jsonString(text)).toBe(JSON.stringify(text));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('digests', () => {
  it('hash the UTF-8 of the canonical JSON with SHA-256', () => {
    const text = 'héllo ☃ \ud83d\ude00';
    expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    expect(digest({ b: 1, a: [true] })).toBe(createHash('sha256').update('{"a":[true],"b":1}').digest('hex'));
  });
});
