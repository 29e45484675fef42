import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, recordHash } from '../../src/store/hash.js';
import type { LedgerEntry } from '../../src/store/store.js';
import { chainEntries, prepareEntries, verifyLedger } from '../../src/store/verify-chain.js';

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

describe('the chain format', () => {
  // Computed with the first release's canonicalJson and recordHash: ledgers written since must keep verifying,
  // so these digests may never change.
  const golden: LedgerEntry = {
    id: 'evt-golden-1',
    ts: 1_700_000_000_123.5,
    mono: '123456789012345',
    type: 'tool.call',
    agent: 'deployer',
    session: 's-1',
    user: 'alice',
    task: null,
    tool: 'github.create_issue',
    verdict: 'allow',
    data: {
      args: {
        repo: 'acme/app',
        title: 'Fix "quoted" \\ path\n',
        n: -0,
        big: 1e21,
        tiny: 5e-324,
        list: [1, 'two', null, true, { z: 1, a: 2 }],
      },
      unicode: 'héllo ☃ 𝄞',
      reasons: [],
    },
  };
  const second: LedgerEntry = { ...golden, id: 'evt-golden-2', data: null, agent: null };
  const first = '0ff5602e8763275e82c45598af1feaf97677af02dd74a35e22cca6c1f41cf66c';
  const next = '25ec3847c3f54a01c514a123a3dee0b048037194d52678d1589fde72ac499764';

  it('hashes known records to the digests the first release gave them', () => {
    expect(recordHash(golden, 1, GENESIS_HASH)).toBe(first);
    expect(recordHash(second, 2, first)).toBe(next);
    const records = chainEntries(prepareEntries([golden, second]), { seq: 0, hash: GENESIS_HASH });
    expect(records.map((r) => r.hash)).toEqual([first, next]);
  });
});
