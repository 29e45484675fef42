import { describe, expect, it } from 'vitest';
import {
  canonNumber,
  cleanText,
  fullKey,
  numberKey,
  shapeOf,
  tokenize,
  urlKey,
  wellFormed,
} from '../../../src/trust/provenance/normalise.js';

function keysOf(text: string): Set<string> {
  const keys = new Set<string>();
  tokenize(cleanText(text), { key: (k) => keys.add(k) });
  return keys;
}

describe('normalisation', () => {
  it('decodes URL escapes and HTML entities, folds compatibility forms and drops invisible characters', () => {
    expect(cleanText('alice%40example.com')).toBe('alice@example.com');
    expect(cleanText('a&amp;b &#64; &#x41;')).toBe('a&b @ A');
    expect(cleanText('ＡＣＭＥ－４２')).toBe('ACME-42');
    expect(cleanText('acct\u200b-\u2066991\u2069')).toBe('acct-991');
    // A malformed escape stays as it is instead of throwing.
    expect(cleanText('100%zz and %E0%A4%A')).toContain('%zz');
  });

  it('replaces lone surrogates so later steps see well-formed text', () => {
    expect(wellFormed('a\ud800b\udc00c')).toBe('a\ufffdb\ufffdc');
    expect(wellFormed('ok \ud83d\ude00')).toBe('ok \ud83d\ude00');
    expect(() => keysOf('id-\ud800-77')).not.toThrow();
  });

  it('writes numbers one way: thousands separators, trailing zeros, but not leading zeros', () => {
    expect(canonNumber('1,000.00')).toBe('1000');
    expect(canonNumber('98.70')).toBe('98.7');
    expect(canonNumber('007')).toBe('007');
    expect(canonNumber('12a')).toBeUndefined();
    expect(numberKey(98.7)).toBe('98.7');
    expect(numberKey(1000)).toBe('1000');
    expect(numberKey(0.1 + 0.2)).toBe('0.3');
    expect(numberKey(-50)).toBe('50');
    expect(numberKey(Number.NaN)).toBeUndefined();
  });

  it('normalises URLs: host case, escapes, trailing slash', () => {
    expect(urlKey('HTTPS://Example.COM/a%20b/')).toBe('https://example.com/a b');
    expect(urlKey('https://example.com/x?q=a%2Fb#frag')).toBe('https://example.com/x?q=a/b#frag');
    expect(urlKey('not a url')).toBeUndefined();
  });

  it('tokenises into whole tokens, compounds, numbers, bigrams and grouped codes', () => {
    const keys = keysOf('Pay $1,000.00 to DE89 3704 0044 0532 0130 00 for bill-2023.txt, ref 91234.');
    expect(keys.has('1000')).toBe(true);
    expect(keys.has('de89370400440532013000')).toBe(true);
    expect(keys.has('bill-2023.txt')).toBe(true);
    expect(keys.has('91234')).toBe(true);
    expect(keys.has('123')).toBe(false);
    expect(keys.has('pay 1000')).toBe(true);
    // Phrases end at punctuation: no bigram across the comma.
    expect(keys.has('txt ref')).toBe(false);
  });

  it('shapes a value into the keys a lookup needs', () => {
    expect(shapeOf(cleanText('Car Rental 98.70')).parts).toEqual(['car rental', '98.7']);
    expect(shapeOf(cleanText('DE89 3704 0044')).squashed).toBe('de8937040044');
    expect(fullKey('  Le   Marais\nBoutique ')).toBe('le marais boutique');
  });

  it('stays linear on inputs crafted against its regular expressions', () => {
    const crafted = [
      '1,' + '000,'.repeat(50_000) + 'x',
      'a.'.repeat(100_000) + '!',
      'https://' + 'a'.repeat(200_000),
      '%'.repeat(100_000) + '%e0',
      '&#' + '1'.repeat(100_000),
      'A1 '.repeat(60_000),
      '\u200b'.repeat(100_000) + 'x',
    ];
    for (const text of crafted) {
      let n = 0;
      tokenize(cleanText(text), {
        key: () => {
          n++;
        },
      });
      expect(n).toBeGreaterThanOrEqual(0);
    }
  });
});
