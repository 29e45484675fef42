import { describe, expect, it } from 'vitest';

import { normalise, toOriginal } from '../../../src/trust/injection/index.js';

describe('normalise', () => {
  it('folds compatibility forms, diacritics and look-alikes to lower-case ASCII', () => {
    expect(normalise('ＩＧＮＯＲＥ').lower).toBe('ignore');
    expect(normalise('𝐢𝐠𝐧𝐨𝐫𝐞').lower).toBe('ignore');
    expect(normalise('ìgnöre').lower).toBe('ignore');
    expect(normalise('рaypаl').lower).toBe('paypal'); // Cyrillic р and а
    expect(normalise('don’t “quote”').lower).toBe('don\'t "quote"');
    expect(normalise('ﬁle').lower).toBe('file');
  });

  it('drops invisible characters and records where they were', () => {
    const n = normalise('a\u200bb\u202Ec\u{E0041}d');
    expect(n.lower).toBe('abcd');
    expect(n.invisibles.map((i) => i.kind)).toEqual(['zero-width', 'bidi', 'tag']);
    expect(n.invisibles.map((i) => i.pos)).toEqual([1, 3, 5]);
  });

  it('collapses white space runs to one space, or one line break if the run has one', () => {
    expect(normalise('a \t  b\n\n  c\u00a0\u2003d').lower).toBe('a b\nc d');
  });

  it('undoes JSON and YAML escaping', () => {
    expect(normalise('one\\ntwo\\tthree \\"q\\" back\\\\slash').lower).toBe('one\ntwo three "q" back\\slash');
    expect(normalise('folded\\\n    \\ line').lower).toBe('folded\nline');
    expect(normalise('\\u0049\\u0067 \\ud83d\\ude00').text).toBe('Ig 😀');
  });

  it('maps every normalised character back to the original span', () => {
    const text = '😀 ＡＢ\u200bc\\nd';
    const n = normalise(text);
    expect(n.lower).toBe('😀 ab\nd'.replace('\n', 'c\n'));
    const i = n.lower.indexOf('ab');
    const [s, e] = toOriginal(n, i, i + 3); // "abc"
    expect(text.slice(s, e)).toBe('ＡＢ\u200bc');
    const j = n.lower.indexOf('d');
    expect(text.slice(...toOriginal(n, j - 1, j + 1))).toBe('\\nd');
  });

  it('drops lone surrogates for matching and counts them', () => {
    const n = normalise('a\ud800b\udc00c');
    expect(n.text).toBe('abc');
    expect(n.loneSurrogates).toBe(2);
  });

  it('handles empty input', () => {
    const n = normalise('');
    expect(n.lower).toBe('');
    expect(toOriginal(n, 0, 0)).toEqual([0, 0]);
  });
});
