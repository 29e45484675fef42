/**
 * Comparing tool names and descriptions across tools: the normal forms a model effectively sees (case,
 * separators and look-alike letters do not matter to it), how one name relates to another, and whether one
 * description is a copy of another.
 */
import { foldForMatching } from './unicode.js';

/**
 * Words an impersonator adds to an existing name to pass as a variant of it: articles, version marks and
 * qualities a copy claims. Verbs and nouns are not here: `get_file_info` is not a decorated `get_file`.
 */
const DECORATIONS = new Set([
  'the',
  'a',
  'an',
  'my',
  'your',
  'our',
  'this',
  'v',
  'version',
  'official',
  'original',
  'legacy',
  'beta',
  'alpha',
  'secure',
  'safe',
  'pro',
  'plus',
  'premium',
  'enhanced',
  'improved',
  'better',
  'best',
  'super',
  'ultimate',
  'ultra',
  'verified',
  'trusted',
  'fixed',
  'alt',
  'mcp',
  'tool',
]);

const TOKEN = /[vV]\d+(?![a-z])|\p{Lu}+(?!\p{Ll})|\p{Lu}?\p{Ll}+|\d+|\p{L}+/gu;

/** Lower-case words of a name: `getUserV2` and `get_user_v2` both give `get user v2`. Look-alikes folded first. */
export function nameTokens(name: string): string[] {
  const folded = foldForMatching(name);
  return Array.from(folded.matchAll(TOKEN), (m) => m[0].toLowerCase());
}

/** A word without a plain English plural ending, so `commands` and `command` compare equal. */
export function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return word.slice(0, -3) + 'y';
  if (word.length > 4 && /(?:ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith('s') && !/(?:ss|us|is|as)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** The name as one string of lower-case letters and digits, look-alikes folded, separators and case gone. */
export function nameSkeleton(name: string): string {
  return nameTokens(name).join('');
}

function isDecoration(token: string): boolean {
  return DECORATIONS.has(token) || /^v?\d+$/.test(token);
}

/** Levenshtein distance, but only whether it is at most one (cheap: linear). */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) return a.slice(i + 1) === b.slice(i + 1);
  if (la > lb) return a.slice(i + 1) === b.slice(i);
  return a.slice(i) === b.slice(i + 1);
}

/** True when `small` appears in `big` in order (not necessarily contiguously), with something left over. */
function isProperSubsequence(small: string[], big: string[]): boolean {
  if (small.length === 0 || small.length >= big.length) return false;
  let j = 0;
  for (const t of big) if (t === small[j]) j++;
  return j === small.length;
}

/**
 * How name `a` relates to name `b`:
 * - `same`: identical strings;
 * - `confusable`: identical to a model once case, separators and look-alike letters are ignored;
 * - `decorated`: `a` is `b` plus impersonation words (`_v1`, `the`, `official`, ...);
 * - `undecorated`: the reverse, `b` is `a` plus such words;
 * - `plural-longer` / `plural-shorter`: equal up to plural endings, `a` being the longer / shorter;
 * - `typo-longer` / `typo-shorter` / `typo`: one character inserted / deleted / changed (names of 6+ chars);
 * - `extended` / `contracted`: `a` adds / drops whole words relative to `b`;
 * - `substituted`: one word differs in names of three words or more;
 * - `none`.
 */
export type NameRelation =
  | 'same'
  | 'confusable'
  | 'decorated'
  | 'undecorated'
  | 'plural-longer'
  | 'plural-shorter'
  | 'typo-longer'
  | 'typo-shorter'
  | 'typo'
  | 'extended'
  | 'contracted'
  | 'substituted'
  | 'none';

/** Precomputed forms of a name, so that comparing against many known names stays cheap. */
export interface NameForms {
  raw: string;
  tokens: string[];
  singular: string[];
  skeleton: string;
  /** The singular tokens without impersonation words. */
  core: string[];
  decorated: boolean;
}

/** Compute the forms of a name once. */
export function nameForms(raw: string): NameForms {
  const tokens = nameTokens(raw);
  const sing = tokens.map(singular);
  const core = sing.filter((t) => !isDecoration(t));
  return {
    raw,
    tokens,
    singular: sing,
    skeleton: tokens.join(''),
    core: core.length > 0 ? core : sing,
    decorated: core.length > 0 && core.length < sing.length,
  };
}

/** Relate two names (see `NameRelation`). */
export function relateNames(a: NameForms, b: NameForms): NameRelation {
  if (a.raw === b.raw) return 'same';
  if (a.skeleton === b.skeleton && a.skeleton.length > 0) return 'confusable';
  const aCore = a.core.join(' ');
  const bCore = b.core.join(' ');
  if (aCore === bCore && aCore.length > 0) {
    if (a.decorated && !b.decorated) return 'decorated';
    if (b.decorated && !a.decorated) return 'undecorated';
    if (a.decorated && b.decorated) return 'decorated';
  }
  if (a.singular.join(' ') === b.singular.join(' ')) {
    return a.skeleton.length >= b.skeleton.length ? 'plural-longer' : 'plural-shorter';
  }
  if (Math.min(a.skeleton.length, b.skeleton.length) >= 6 && withinOneEdit(a.skeleton, b.skeleton)) {
    if (a.skeleton.length > b.skeleton.length) return 'typo-longer';
    if (a.skeleton.length < b.skeleton.length) return 'typo-shorter';
    return 'typo';
  }
  if (isProperSubsequence(b.core, a.core)) return 'extended';
  if (isProperSubsequence(a.core, b.core)) return 'contracted';
  if (a.core.length >= 3 && a.core.length === b.core.length) {
    let diff = 0;
    for (let i = 0; i < a.core.length; i++) if (a.core[i] !== b.core[i]) diff++;
    if (diff === 1) return 'substituted';
  }
  return 'none';
}

/** Words of a description, folded and lower-cased, at most `max` of them. */
export function descriptionWords(text: string, max = 600): string[] {
  const folded = foldForMatching(text.length > 20_000 ? text.slice(0, 20_000) : text).toLowerCase();
  const words = folded.match(/[a-z0-9]+/g) ?? [];
  return words.length > max ? words.slice(0, max) : words;
}

/** Word pairs of a description, for containment. */
export function descriptionShingles(words: string[]): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 1 < words.length; i++) out.add(`${words[i] ?? ''} ${words[i + 1] ?? ''}`);
  return out;
}

/**
 * True when one description is (nearly) contained in the other: at least 90% of the shorter one's word
 * pairs occur in the longer one. Descriptions under five words never count, since short ones coincide.
 */
export function isDescriptionCopy(
  aWords: string[],
  aShingles: Set<string>,
  bWords: string[],
  bShingles: Set<string>,
): boolean {
  if (aWords.length < 5 || bWords.length < 5) return false;
  const [small, big] = aShingles.size <= bShingles.size ? [aShingles, bShingles] : [bShingles, aShingles];
  if (small.size === 0) return false;
  let shared = 0;
  for (const s of small) if (big.has(s)) shared++;
  return shared / small.size >= 0.9;
}
