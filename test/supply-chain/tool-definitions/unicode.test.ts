import { describe, expect, it } from 'vitest';
import {
  findHiddenCharacters,
  foldForMatching,
  visible,
} from '../../../src/supply-chain/tool-definitions/unicode.js';

describe('findHiddenCharacters', () => {
  it('classifies tags, bidi controls, zero-width runs, selectors and escapes', () => {
    const tag = String.fromCodePoint(0xe0068, 0xe0069);
    const rules = (s: string): string[] => findHiddenCharacters(s).map((h) => `${h.rule}:${h.severity}`);
    expect(rules(`a${tag}`)).toEqual(['unicode-tags:critical']);
    expect(findHiddenCharacters(`a${tag}`)[0]?.decoded).toBe('hi');
    expect(rules('a\u202Eb')).toEqual(['bidi-control:high']);
    expect(rules('a\u200Bb')).toEqual(['zero-width:medium']);
    expect(rules('a\u200B\u200C\u2060b')).toEqual(['zero-width:high']);
    expect(rules('a\uFE00\uFE01\uFE02')).toEqual(['variation-selector:high']);
    expect(rules('red \u001b[31m text')).toEqual(['control-character:high']);
  });

  it('allows what ordinary text needs', () => {
    expect(findHiddenCharacters('\uFEFFstarts with a BOM')).toEqual([]);
    expect(findHiddenCharacters('family 👨‍👩‍👧 and ❤️')).toEqual([]);
    expect(findHiddenCharacters('tabs\tand\nnewlines\r\n')).toEqual([]);
    expect(findHiddenCharacters('漢\u{E0100}字')).toEqual([]);
  });
});

describe('foldForMatching', () => {
  it('removes invisible code points, decodes tags and maps look-alikes', () => {
    const tags = Array.from('rm', (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    expect(foldForMatching('ig\u200Bnore')).toBe('ignore');
    expect(foldForMatching(`x${tags}`)).toBe('xrm');
    expect(foldForMatching('\u0456gn\u043Er\u0435')).toBe('ignore');
    expect(foldForMatching('ｉｇｎｏｒｅ')).toBe('ignore');
    expect(foldForMatching('café')).toBe('cafe');
  });
});

describe('visible', () => {
  it('shows invisible characters and shortens', () => {
    expect(visible('a\u200Bb')).toBe('a<U+200B>b');
    expect(visible('x'.repeat(500), 10)).toBe('xxxxxxxxxx...');
  });
});
