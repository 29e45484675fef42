import { describe, expect, it } from 'vitest';
import { ProvenanceIndex, type Origin, type ProvenanceClass } from '../../../src/trust/provenance/index.js';

const OPTIONS = { maxTrusted: 1000, maxUntrusted: 1000, maxCharsPerEvent: 64 * 1024 };

function origin(cls: ProvenanceClass, name = 'src', extra: Partial<Origin> = {}): Origin {
  return {
    cls,
    private: cls !== 'tier3',
    source: {
      kind: 'ingest',
      name,
      tier: cls === 'tier3' ? 3 : cls === 'tier2' ? 2 : 1,
      eventId: `e-${name}`,
    },
    ...extra,
  };
}

function indexWith(entries: [unknown, ProvenanceClass, string?][]): ProvenanceIndex {
  const ix = new ProvenanceIndex(OPTIONS);
  for (const [content, cls, name] of entries) ix.observe(content, origin(cls, name));
  return ix;
}

describe('provenance index', () => {
  it('finds a value whatever its case, spacing, encoding or number format', () => {
    const ix = indexWith([
      [
        'Please send 1,000.00 EUR to Bob.Smith@Example.org for invoice INV-2024-0042, see https://portal.example.org/invoices?id=42',
        'tier1',
      ],
    ]);
    expect(ix.lookup('bob.smith@example.org').provenance).toBe('tier1');
    expect(ix.lookup('BOB.SMITH%40EXAMPLE.ORG').provenance).toBe('tier1');
    expect(ix.lookup(1000).provenance).toBe('tier1');
    expect(ix.lookup('1000.0').provenance).toBe('tier1');
    expect(ix.lookup('inv-2024-0042').provenance).toBe('tier1');
    expect(ix.lookup(' INV-2024-0042 ').provenance).toBe('tier1');
    expect(ix.lookup('https://PORTAL.example.org/invoices?id=42').provenance).toBe('tier1');
  });

  it('matches account numbers written in groups against the same number written in one piece, both ways', () => {
    const ix = indexWith([
      ['IBAN: DE89 3704 0044 0532 0130 00', 'tier1'],
      ['beneficiary GB29NWBK60161331926819', 'authoritative'],
    ]);
    expect(ix.lookup('DE89370400440532013000').provenance).toBe('tier1');
    expect(ix.lookup('GB29 NWBK 6016 1331 9268 19').provenance).toBe('authoritative');
  });

  it('is not fooled by substrings of longer tokens', () => {
    const ix = indexWith([['repository 91234 and account 12345678 and host evil-example.com', 'tier1']]);
    expect(ix.lookup('123').provenance).toBe('unverified');
    expect(ix.lookup(123).provenance).toBe('unverified');
    expect(ix.lookup('1234567').provenance).toBe('unverified');
    expect(ix.lookup('example.com').provenance).toBe('unverified');
    expect(ix.lookup('91234').provenance).toBe('tier1');
  });

  it('does not assemble a URL from pieces of other URLs', () => {
    const ix = indexWith([['see https://good.example/a and https://other.example/b', 'tier1']]);
    expect(ix.lookup('https://good.example/b').provenance).toBe('unverified');
    expect(ix.lookup('https://good.example/a/').provenance).toBe('tier1');
  });

  it('keeps the best class a value was seen with, and says where', () => {
    const ix = indexWith([
      ['deploy repo 4411', 'tier3', 'web'],
      ['repos: 4411, 5522', 'authoritative', 'list_repos'],
      ['mirror 7733', 'tier2', 'wiki'],
      ['attacker account 9988776655', 'tier3', 'mail'],
    ]);
    const m = ix.lookup('4411');
    expect(m.provenance).toBe('authoritative');
    expect(m.source?.name).toBe('list_repos');
    expect(ix.lookup('7733').provenance).toBe('tier2');
    expect(ix.lookup('9988776655')).toMatchObject({ provenance: 'tier3', source: { name: 'mail' } });
    expect(ix.lookup('never-seen-42').provenance).toBe('unverified');
  });

  it('treats a multi-word value as found only if its words are found together', () => {
    const ix = indexWith([['Hotels: Le Marais Boutique\nGood Night\nMontmartre Suites', 'authoritative']]);
    expect(ix.lookup('le marais  boutique').provenance).toBe('authoritative');
    expect(ix.lookup('Boutique Montmartre').provenance).toBe('unverified');
    expect(ix.lookup('Marais Suites').provenance).toBe('unverified');
  });

  it('calls a value tainted when any part of it comes only from tier-3 content', () => {
    const ix = indexWith([
      ['pay invoice INV-1001', 'tier1'],
      ['remit to ACC-9999', 'tier3'],
    ]);
    expect(ix.lookup('INV-1001 ACC-9999').provenance).toBe('tier3');
    expect(ix.lookup('INV-1001').provenance).toBe('tier1');
  });

  it('reports trivial values as trivial and arrays by their worst element', () => {
    const ix = indexWith([
      ['a@x.io b@y.io', 'tier1'],
      ['c@z.io', 'tier3'],
    ]);
    expect(ix.lookup('').provenance).toBe('trivial');
    expect(ix.lookup(true).provenance).toBe('trivial');
    expect(ix.lookup(null).provenance).toBe('trivial');
    expect(ix.lookup(['a@x.io', 'b@y.io']).provenance).toBe('tier1');
    expect(ix.lookup(['a@x.io', 'c@z.io']).provenance).toBe('tier3');
    expect(ix.lookup(['a@x.io', 'nobody@x.io']).provenance).toBe('unverified');
  });

  it('indexes structured results, their keys, and field-level authority', () => {
    const ix = new ProvenanceIndex(OPTIONS);
    ix.observe(
      [
        {
          id_: '17',
          sender: 'ceo@corp.example',
          body: 'wire to acct 55667788 now',
          meta: { 'Le Baratin': 4.8 },
        },
      ],
      origin('tier3', 'mail', {
        fields: [
          { path: ['id_'], cls: 'authoritative' },
          { path: ['sender'], cls: 'authoritative' },
        ],
      }),
    );
    expect(ix.lookup('17').provenance).toBe('authoritative');
    expect(ix.lookup('ceo@corp.example').provenance).toBe('authoritative');
    expect(ix.lookup('55667788').provenance).toBe('tier3');
    expect(ix.lookup('le baratin').provenance).toBe('tier3');
    expect(ix.lookup(4.8).provenance).toBe('tier3');
    // A JSON string result is read as the value it encodes.
    const ix2 = new ProvenanceIndex(OPTIONS);
    ix2.observe(
      '{"items":[{"id":"r-77"}]}',
      origin('tier3', 'api', { fields: [{ path: ['items', 'id'], cls: 'authoritative' }] }),
    );
    expect(ix2.lookup('r-77').provenance).toBe('authoritative');
  });

  it('ignores look-alike characters instead of folding them into a trusted value', () => {
    const ix = indexWith([['account ACME77', 'tier1']]);
    // Cyrillic А and С: a different value, not a reformatting.
    expect(ix.lookup('\u0410\u0421ME77').provenance).toBe('unverified');
    // Invisible characters are formatting.
    expect(ix.lookup('AC\u200bME77').provenance).toBe('tier1');
  });

  it('stays bounded: LRU per map, so untrusted floods do not evict trusted values', () => {
    const ix = new ProvenanceIndex({ maxTrusted: 100, maxUntrusted: 100, maxCharsPerEvent: 1_000_000 });
    ix.observe('user account 424242', origin('tier1', 'user'));
    for (let i = 0; i < 50; i++)
      ix.observe(Array.from({ length: 100 }, (_, j) => `tok${i}x${j}`).join(' '), origin('tier3', `web${i}`));
    expect(ix.size).toBeLessThanOrEqual(200);
    expect(ix.lookup('424242').provenance).toBe('tier1');
    expect(ix.lookup('tok0x0').provenance).toBe('unverified');
    expect(ix.lookup('tok49x99').provenance).toBe('tier3');
  });

  it('indexes only the first maxCharsPerEvent characters and says so', () => {
    const ix = new ProvenanceIndex({ maxTrusted: 1000, maxUntrusted: 1000, maxCharsPerEvent: 2048 });
    const report = ix.observe('a '.repeat(5000) + 'late-id-9999', origin('tier1'));
    expect(report.truncated).toBe(true);
    expect(ix.lookup('late-id-9999').provenance).toBe('unverified');
  });

  it('survives hostile content: deep nesting, cycles, huge strings, odd values', () => {
    const ix = new ProvenanceIndex(OPTIONS);
    let deep: Record<string, unknown> = { id: 'deep-1' };
    for (let i = 0; i < 10_000; i++) deep = { x: deep };
    const cyclic: Record<string, unknown> = { id: 'cyc-7' };
    cyclic.self = cyclic;
    for (const v of [
      deep,
      cyclic,
      'x'.repeat(5_000_000),
      { n: Number.NaN, b: 10n, d: new Date(0), f: () => 1, u: new Uint8Array(3) },
      '[[[[[[',
      '\ud800\udfff\udc00',
    ]) {
      expect(() => ix.observe(v, origin('tier3'))).not.toThrow();
    }
    expect(ix.lookup('cyc-7').provenance).toBe('tier3');
    expect(ix.lookup('y'.repeat(10_000)).provenance).toBe('unverified');
    const longArray = Array.from({ length: 1000 }, (_, i) => `v${i}`);
    expect(ix.lookup(longArray).provenance).toBe('unverified');
  });

  it('tells private data in a piece of text: values, tokens and long phrases, not plain words', () => {
    const ix = new ProvenanceIndex(OPTIONS);
    ix.observe(
      'Customer Jane Roe, card 4111 1111 1111 1111, project codename bluebird falcon rising early',
      origin('tier2'),
    );
    ix.observe('public page about the weather 77123', { ...origin('tier3'), private: false });
    expect(ix.carriesPrivate('4111111111111111', 4)).toBeDefined();
    expect(ix.carriesPrivate('x=4111 1111 1111 1111', 4)).toBeDefined();
    expect(ix.carriesPrivate('codename bluebird falcon rising', 4)).toBe('phrase');
    expect(ix.carriesPrivate('customer', 4)).toBeUndefined();
    expect(ix.carriesPrivate('weather 77123', 4)).toBeUndefined();
    expect(ix.carriesPrivate('', 4)).toBeUndefined();
  });
});

describe('provenance index properties', async () => {
  const fc = await import('fast-check');
  const opts = { maxTrusted: 100_000, maxUntrusted: 100_000, maxCharsPerEvent: 1_000_000 };

  it('finds every whole alphanumeric run of any text it indexed', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z0-9 ,.\-@\n:/]{0,200}$/), (text) => {
        const ix = new ProvenanceIndex(opts);
        ix.observe(text, origin('tier1'));
        for (const run of text.match(/[A-Za-z0-9]+/g) ?? []) {
          if (ix.lookup(run).provenance === 'unverified') return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('never finds a number that only occurs inside a longer number', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9][0-9]{0,5}$/),
        fc.stringMatching(/^[1-9][0-9]{0,3}$/),
        fc.stringMatching(/^[0-9]{1,4}$/),
        (inner, before, after) => {
          const ix = new ProvenanceIndex(opts);
          ix.observe(`ref ${before}${inner}${after} done`, origin('tier1'));
          return ix.lookup(inner).provenance === 'unverified';
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('provenance index: best of several matches', () => {
  it("prefers the user's words over the same name seen whole in untrusted content", () => {
    const ix = indexWith([["My friend recommended 'Le Marais Boutique' as a great place", 'tier1']]);
    ix.observe({ 'Le Marais Boutique': 'Rating: 4.2' }, origin('tier3', 'reviews'));
    expect(ix.lookup('Le Marais Boutique').provenance).toBe('tier1');
  });
});
