import { toOriginal, type Normalised } from './normalise.js';
import type { LexicalRule } from './rules.js';
import type { InjectionFamily } from './types.js';

/** A finding before excerpts are cut: spans are already in original offsets. */
export interface RawFinding {
  family: InjectionFamily;
  rule: string;
  start: number;
  end: number;
  score: number;
  message: string;
}

/** Matches kept per rule: enough to show where an attack is, bounded so a repetitive input stays cheap. */
export const MAX_MATCHES_PER_RULE = 16;

/** Build a finding from a span of the normalised text. */
export function fromNorm(
  norm: Normalised,
  family: InjectionFamily,
  rule: string,
  s: number,
  e: number,
  score: number,
  message: string,
): RawFinding {
  const [start, end] = toOriginal(norm, s, e);
  return { family, rule, start, end, score, message };
}

const TOKEN = /[a-z0-9_]+/g;
const tokenCache = new WeakMap<Normalised, ReadonlySet<string>>();

/** The set of `[a-z0-9_]+` tokens of the normalised text, computed once per text. */
export function tokensOf(norm: Normalised): ReadonlySet<string> {
  let set = tokenCache.get(norm);
  if (set === undefined) {
    set = new Set(norm.lower.match(TOKEN) ?? []);
    tokenCache.set(norm, set);
  }
  return set;
}

/** For a rule table: trigger word -> indexes of the rules it opens. Built once per table. */
const triggerIndex = new WeakMap<readonly LexicalRule[], { byWord: Map<string, number[]>; words: number }>();

function indexOf(rules: readonly LexicalRule[]): { byWord: Map<string, number[]>; words: number } {
  let index = triggerIndex.get(rules);
  if (index === undefined) {
    const byWord = new Map<string, number[]>();
    rules.forEach((rule, i) => {
      for (const t of rule.triggers ?? []) {
        const list = byWord.get(t);
        if (list === undefined) byWord.set(t, [i]);
        else if (!list.includes(i)) list.push(i);
      }
    });
    index = { byWord, words: byWord.size };
    triggerIndex.set(rules, index);
  }
  return index;
}

/** Which rules of the table are worth running on this text: one pass over the smaller of the two word sets. */
function openRules(rules: readonly LexicalRule[], norm: Normalised): boolean[] {
  const open = rules.map((r) => r.triggers === undefined);
  const tokens = tokensOf(norm);
  const { byWord, words } = indexOf(rules);
  if (tokens.size <= words) {
    for (const t of tokens) for (const i of byWord.get(t) ?? []) open[i] = true;
  } else {
    for (const [t, list] of byWord) if (tokens.has(t)) for (const i of list) open[i] = true;
  }
  rules.forEach((rule, i) => {
    if (rule.needles === undefined || (open[i] === true && rule.triggers !== undefined)) return;
    open[i] = rule.needles.some((n) => norm.lower.includes(n));
  });
  return open;
}

/** Run regular-expression rules over the lower-cased normalised text. */
export function runRules(rules: readonly LexicalRule[], norm: Normalised, out: RawFinding[]): void {
  const text = norm.lower;
  const open = openRules(rules, norm);
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r];
    if (rule === undefined || open[r] !== true) continue;
    const re = rule.re;
    re.lastIndex = 0;
    let count = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const score = rule.check === undefined ? rule.score : rule.check(m, text);
      if (score > 0) {
        // Leading separators matched by `(?:^|\n)` are not part of the evidence.
        let s = m.index;
        const e = m.index + m[0].length;
        while (s < e && (text.charCodeAt(s) === 0x0a || text.charCodeAt(s) === 0x20)) s++;
        out.push(fromNorm(norm, rule.family, rule.id, s, e, score, rule.message));
        if (++count >= MAX_MATCHES_PER_RULE) break;
      }
    }
    re.lastIndex = 0;
  }
}

const SENTENCE_LIMIT = 240;

function isLowerOrDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
}

/**
 * Is the character at i the end of a sentence (., !, ?, newline)? Works on the case-preserving normalised text:
 * a dot inside "3.5", "e.g." or "www.example.com", or punctuation followed (after a closing quote and a space)
 * by a lower-case word, as in `"Buy now!" to your reply`, does not end a sentence.
 */
function isSentenceEnd(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 0x0a) return true;
  if (c !== 0x2e && c !== 0x21 && c !== 0x3f) return false;
  let j = i + 1;
  let next = text.charCodeAt(j);
  if (c === 0x2e && isLowerOrDigit(next)) return false;
  if (next === 0x22 || next === 0x27 || next === 0x29) {
    next = text.charCodeAt(++j);
  }
  if (next === 0x20 && j > i + 1) {
    // closing quote then space: look at the next word
    return !isLowerOrDigit(text.charCodeAt(j + 1));
  }
  if (next === 0x20 && c === 0x2e) {
    // "approx. five", "e.g. this": a dot, a space and a lower-case word continue the sentence
    return !isLowerOrDigit(text.charCodeAt(j + 1));
  }
  return true;
}

/**
 * The sentence around `pos`, at most SENTENCE_LIMIT characters each way. Pass the case-preserving normalised
 * text (`norm.text`): offsets are the same as in `norm.lower`, and case tells sentence ends apart.
 */
export function sentenceAround(text: string, pos: number): [number, number] {
  let s = pos;
  const minS = Math.max(0, pos - SENTENCE_LIMIT);
  while (s > minS) {
    if (isSentenceEnd(text, s - 1)) break;
    s--;
  }
  let e = pos;
  const maxE = Math.min(text.length, pos + SENTENCE_LIMIT);
  while (e < maxE) {
    if (isSentenceEnd(text, e)) {
      if (text.charCodeAt(e) !== 0x0a) e++;
      break;
    }
    e++;
  }
  while (s < e && text.charCodeAt(s) === 0x20) s++;
  return [s, e];
}
