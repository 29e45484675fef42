import { CONFUSABLES, scriptOf, type Script } from './confusables.js';
import type { RawFinding } from './engine.js';

/**
 * Homoglyphs: words that mix scripts (a Cyrillic `а` inside a Latin word) or spell a sensitive word entirely in
 * look-alike letters. Prose written in one script, Greek or Cyrillic or any other, is never a finding: only a
 * word whose letters disagree about their script, or a look-alike word among Latin words, is.
 */

/** Words an attacker disguises to get past filters or to impersonate. */
const SENSITIVE = new Set(
  (
    'ignore disregard forget override bypass instruction instructions previous prior system prompt assistant ' +
    'admin administrator developer password passwords secret token credentials confidential execute run send ' +
    'transfer email forward urgent verify account login bank paypal microsoft google apple amazon openai ' +
    'anthropic important user jailbreak unrestricted delete'
  ).split(' '),
);

const WORD = /[\p{L}\p{M}]+/gu;
const LOOK_ALIKE_SCRIPTS: readonly Script[] = ['cyrillic', 'greek', 'armenian'];
const MAX_FINDINGS = 32;
// Units written with a Greek letter: micro (µs, μm, µg) and ohm (kΩ). Benchmarks and data sheets are full of them,
// and a unit is not a disguised word.
const UNIT = /^(?:[\u00b5\u03bc][a-z]{1,3}|[kmg]?[\u03a9\u2126])$/iu;

function fold(word: string): string {
  let out = '';
  for (const ch of word) {
    const cp = ch.codePointAt(0) ?? 0;
    const c = CONFUSABLES.get(cp);
    if (c !== undefined) out += c;
    else out += ch.normalize('NFKD').replace(/\p{M}/gu, '');
  }
  return out.toLowerCase();
}

interface WordInfo {
  start: number;
  end: number;
  scripts: Set<Script>;
  allConfusable: boolean;
  styled: boolean;
  word: string;
}

function analyse(word: string, start: number): WordInfo {
  const scripts = new Set<Script>();
  let allConfusable = true;
  let styled = false;
  for (const ch of word) {
    const cp = ch.codePointAt(0) ?? 0;
    // Mathematical alphanumerics and full-width letters: styled Latin.
    if ((cp >= 0x1d400 && cp <= 0x1d7ff) || (cp >= 0xff21 && cp <= 0xff5a)) {
      styled = true;
      scripts.add('latin');
      continue;
    }
    const s = scriptOf(cp);
    if (s === 'other' && cp > 0x7f && /\p{M}/u.test(ch)) continue; // combining marks take the script of their base
    scripts.add(s);
    if (cp > 0x7f && !CONFUSABLES.has(cp)) allConfusable = false;
  }
  return { start, end: start + word.length, scripts, allConfusable, styled, word };
}

/** Find homoglyph words in the original text (offsets are original offsets). */
export function homoglyphs(text: string, out: RawFinding[]): void {
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  let mixed = 0;
  const candidates: { info: WordInfo; score: number; message: string }[] = [];
  // Keep a small window of neighbours to judge look-alike words by the words around them.
  let prevLatin = false;
  let pending: WordInfo | undefined;
  let prevLatinOfPending = false;
  const judgePending = (nextLatin: boolean): void => {
    if (pending === undefined) return;
    const f = fold(pending.word);
    if (SENSITIVE.has(f)) {
      candidates.push({
        info: pending,
        score: 0.7,
        message: `"${f}" is spelled with look-alike letters from another script.`,
      });
    } else if (pending.word.length >= 4 && prevLatinOfPending && nextLatin) {
      candidates.push({
        info: pending,
        score: 0.45,
        message: 'A word of look-alike letters among Latin words.',
      });
    }
    pending = undefined;
  };

  while ((m = WORD.exec(text)) !== null) {
    const word = m[0];
    let ascii = true;
    for (let i = 0; i < word.length; i++) {
      if (word.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      judgePending(true);
      prevLatin = true;
      continue;
    }
    if (UNIT.test(word)) {
      judgePending(true);
      prevLatin = true;
      continue;
    }
    const info = analyse(word, m.index);
    const latin = info.scripts.has('latin');
    const lookAlikeScripts = LOOK_ALIKE_SCRIPTS.filter((s) => info.scripts.has(s)).length;
    judgePending(latin && info.scripts.size === 1);
    if (latin && lookAlikeScripts > 0) {
      mixed++;
      const f = fold(word);
      candidates.push({
        info,
        score: SENSITIVE.has(f) ? 0.8 : 0.5,
        message: `"${f}" mixes Latin letters with look-alikes from another script.`,
      });
    } else if (lookAlikeScripts > 1) {
      mixed++;
      candidates.push({ info, score: 0.45, message: 'A word mixes Cyrillic, Greek or Armenian letters.' });
    } else if (!latin && lookAlikeScripts === 1 && info.allConfusable && word.length >= 3) {
      pending = info;
      prevLatinOfPending = prevLatin;
    } else if (info.styled && SENSITIVE.has(fold(word))) {
      candidates.push({ info, score: 0.45, message: `"${fold(word)}" is written in styled letters.` });
    }
    prevLatin = latin && info.scripts.size === 1;
    if (candidates.length >= MAX_FINDINGS) break;
  }
  judgePending(false);

  // Several mixed words make each of them more telling.
  const boost = mixed >= 3 ? 0.15 : 0;
  for (const c of candidates.slice(0, MAX_FINDINGS)) {
    out.push({
      family: 'homoglyph',
      rule: 'homoglyph.mixed-script',
      start: c.info.start,
      end: c.info.end,
      score: Math.min(0.9, c.score + boost),
      message: c.message,
    });
  }
}
