import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/core/canonical.js';
import { GENESIS_HASH, recordHash } from '../../src/store/hash.js';
import type { LedgerEntry } from '../../src/store/store.js';
import { canonicalData, chainEntries, prepareEntries, verifyLedger } from '../../src/store/verify-chain.js';

/** The outcome of a function: its value, or the class and message of what it threw. */
function outcome(f: () => string): { value: string } | { error: string } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

const anything = fc.anything({
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

const nullableString = fc.option(fc.string({ unit: 'grapheme' }), { nil: null });

const ledgerEntry: fc.Arbitrary<LedgerEntry> = fc.record({
  id: fc.string({ minLength: 1 }),
  ts: fc.double({ noNaN: true, noDefaultInfinity: true }),
  mono: fc.bigInt({ min: 0n }).map(String),
  type: fc.string({ minLength: 1 }),
  agent: nullableString,
  session: nullableString,
  user: nullableString,
  task: nullableString,
  tool: nullableString,
  verdict: nullableString,
  data: fc.jsonValue(),
});

describe('canonicalData', () => {
  it('gives exactly what canonicalJson gives, or throws what it throws', () => {
    fc.assert(
      fc.property(anything, (value) => {
        expect(outcome(() => canonicalData(value, 0))).toEqual(outcome(() => canonicalJson(value)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('agrees on the awkward cases', () => {
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
      -0,
      10n ** 30n,
      new Date(0),
      new Date(Number.NaN),
      Object.create(null) as unknown,
      deep,
      { '': 1, '\u0000': 2, é: 3, e: 4, E: 5 },
    ];
    for (const value of cases) {
      expect(outcome(() => canonicalData(value, 0))).toEqual(outcome(() => canonicalJson(value)));
    }
  });
});

describe('chainEntries', () => {
  it('hashes every record exactly as recordHash does', () => {
    fc.assert(
      fc.property(
        fc.array(ledgerEntry, { minLength: 1, maxLength: 8 }),
        fc.nat(1_000_000),
        (batch, start) => {
          const anchor = { seq: start, hash: start === 0 ? GENESIS_HASH : 'f'.repeat(64) };
          const records = chainEntries(prepareEntries(batch), anchor);
          let prev = anchor.hash;
          records.forEach((record, i) => {
            expect(record.seq).toBe(start + i + 1);
            expect(record.prevHash).toBe(prev);
            expect(record.hash).toBe(recordHash(record, record.seq, prev));
            prev = record.hash;
          });
          expect(verifyLedger(records, anchor)).toEqual({ ok: true, count: records.length });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('snapshots entries, so changing one after preparing it does not change its record', () => {
    const entry: LedgerEntry = {
      id: 'e1',
      ts: 1,
      mono: '1',
      type: 'tool.call',
      agent: 'a',
      session: null,
      user: null,
      task: null,
      tool: null,
      verdict: 'allow',
      data: { n: 1 },
    };
    const prepared = prepareEntries([entry]);
    entry.verdict = 'deny';
    const [record] = chainEntries(prepared, { seq: 0, hash: GENESIS_HASH });
    expect(record?.verdict).toBe('allow');
    expect(record?.hash).toBe(recordHash({ ...entry, verdict: 'allow' }, 1, GENESIS_HASH));
  });
});
