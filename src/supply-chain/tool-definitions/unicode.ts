/**
 * Unicode handling for tool definitions: finding code points a person reviewing a definition cannot see,
 * and folding text so that look-alike letters and invisible separators do not hide a pattern from the rules.
 */
import type { Severity } from './types.js';
import { invisibleKind } from '../../trust/injection/normalise.js';

/** One class of invisible or deceptive code point found in a string. */
export interface HiddenCharacterHit {
  rule:
    | 'unicode-tags'
    | 'bidi-control'
    | 'zero-width'
    | 'variation-selector'
    | 'control-character'
    | 'private-use';
  severity: Severity;
  count: number;
  /** Code points as `U+XXXX`, at most a few, with their first offsets. */
  sample: string;
  /** For Unicode tags: the ASCII text they spell. */
  decoded?: string;
}

type Range = readonly [number, number];
const RTL_RANGES: readonly Range[] = [
  [0x0590, 0x08ff],
  [0xfb1d, 0xfdff],
  [0xfe70, 0xfefe],
];
/** Scripts in which ZWJ/ZWNJ are ordinary spelling (Arabic, Indic, Khmer). */
const JOINING_RANGES: readonly Range[] = [
  [0x0600, 0x06ff],
  [0x0900, 0x0dff],
  [0x1780, 0x17ff],
];

function inRanges(cp: number, ranges: readonly Range[]): boolean {
  for (const [lo, hi] of ranges) if (cp >= lo && cp <= hi) return true;
  return false;
}

function hasRtlLetter(text: string): boolean {
  for (const ch of text) if (inRanges(ch.codePointAt(0) ?? 0, RTL_RANGES)) return true;
  return false;
}
const PICTOGRAPH = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|[\u{1F1E6}-\u{1F1FF}]/u;
const CJK = /[\u3400-\u9FFF\u{20000}-\u{3FFFF}]/u;

function hex(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

// One table of invisible code points for tool definitions and for content: the injection normaliser's.
/** True for code points that render as nothing in ordinary text (soft hyphen included). */
function isZeroWidth(cp: number): boolean {
  const kind = invisibleKind(cp);
  return kind === 'zero-width' || kind === 'soft-hyphen';
}

function isBidi(cp: number): boolean {
  return invisibleKind(cp) === 'bidi';
}

function isTag(cp: number): boolean {
  return invisibleKind(cp) === 'tag';
}

function isVariationSelector(cp: number): boolean {
  return invisibleKind(cp) === 'variation-selector';
}

function isControl(cp: number): boolean {
  return (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) || (cp >= 0x7f && cp <= 0x9f);
}

function isPrivateUse(cp: number): boolean {
  return (cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000;
}

class Tally {
  count = 0;
  readonly samples: string[] = [];
  add(cp: number, offset: number): void {
    this.count++;
    if (this.samples.length < 4) this.samples.push(`${hex(cp)}@${offset}`);
  }
  get sample(): string {
    return this.samples.join(', ') + (this.count > this.samples.length ? ', ...' : '');
  }
}

/**
 * Invisible and deceptive code points in `text`, grouped by class. Legitimate uses are let through: ZWJ in
 * emoji sequences and ZWJ/ZWNJ in scripts that need them, direction marks in right-to-left text, emoji
 * presentation selectors, ideographic variation selectors after CJK, a leading byte-order mark.
 */
export function findHiddenCharacters(text: string): HiddenCharacterHit[] {
  const tags = new Tally();
  const bidiStrong = new Tally();
  const bidiMarks = new Tally();
  const zeroWidth = new Tally();
  const selectors = new Tally();
  const controls = new Tally();
  const privateUse = new Tally();
  let escapes = 0;
  let decoded = '';
  const hasRtl = hasRtlLetter(text);
  let prev = '';
  let prevWasSelector = false;
  let offset = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 || isControl(cp)) {
      if (isTag(cp)) {
        tags.add(cp, offset);
        if (cp >= 0xe0020 && cp <= 0xe007e && decoded.length < 2000)
          decoded += String.fromCodePoint(cp - 0xe0000);
      } else if (isBidi(cp)) {
        if (cp === 0x200e || cp === 0x200f || cp === 0x061c) {
          if (!hasRtl) bidiMarks.add(cp, offset);
        } else bidiStrong.add(cp, offset);
      } else if (isZeroWidth(cp)) {
        const legit =
          ((cp === 0x200d || cp === 0x200c) &&
            (PICTOGRAPH.test(prev) || inRanges(prev.codePointAt(0) ?? 0, JOINING_RANGES))) ||
          (cp === 0xfeff && offset === 0);
        if (!legit) zeroWidth.add(cp, offset);
      } else if (isVariationSelector(cp)) {
        // One selector after an emoji or symbol (text/emoji presentation) or after a CJK ideograph is spelling;
        // runs of selectors, or selectors after letters, encode data.
        const legit =
          !prevWasSelector &&
          prev !== '' &&
          (((cp === 0xfe0f || cp === 0xfe0e) && !/[\p{L}\s]/u.test(prev)) || CJK.test(prev));
        if (!legit) selectors.add(cp, offset);
      } else if (isControl(cp)) {
        controls.add(cp, offset);
        if (cp === 0x1b) escapes++;
      } else if (isPrivateUse(cp)) {
        privateUse.add(cp, offset);
      }
    }
    // Variation selectors and ZWJ attach to the character before them, so a run keeps its base.
    prevWasSelector = isVariationSelector(cp);
    if (!prevWasSelector && cp !== 0x200d) prev = ch;
    offset += ch.length;
  }
  const hits: HiddenCharacterHit[] = [];
  if (tags.count > 0) {
    hits.push({
      rule: 'unicode-tags',
      severity: 'critical',
      count: tags.count,
      sample: tags.sample,
      decoded,
    });
  }
  if (bidiStrong.count > 0) {
    hits.push({ rule: 'bidi-control', severity: 'high', count: bidiStrong.count, sample: bidiStrong.sample });
  }
  if (bidiMarks.count > 0) {
    hits.push({ rule: 'bidi-control', severity: 'medium', count: bidiMarks.count, sample: bidiMarks.sample });
  }
  if (zeroWidth.count > 0) {
    hits.push({
      rule: 'zero-width',
      severity: zeroWidth.count >= 3 ? 'high' : 'medium',
      count: zeroWidth.count,
      sample: zeroWidth.sample,
    });
  }
  if (selectors.count > 0) {
    hits.push({
      rule: 'variation-selector',
      severity: selectors.count >= 3 ? 'high' : 'medium',
      count: selectors.count,
      sample: selectors.sample,
    });
  }
  if (controls.count > 0) {
    hits.push({
      rule: 'control-character',
      severity: escapes > 0 ? 'high' : 'medium',
      count: controls.count,
      sample: controls.sample,
    });
  }
  if (privateUse.count > 0) {
    hits.push({ rule: 'private-use', severity: 'low', count: privateUse.count, sample: privateUse.sample });
  }
  return hits;
}

/** Latin letters that Cyrillic, Greek and a few other letters are drawn like. Lower and upper case. */
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  һ: 'h',
  ӏ: 'l',
  ԛ: 'q',
  ԝ: 'w',
  ү: 'y',
  ɡ: 'g',
  ɩ: 'i',
  ℓ: 'l',
  ı: 'i',
  ȷ: 'j',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  Ү: 'Y',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  γ: 'y',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
};

const MARKS = /\p{M}+/gu;
const NON_ASCII = /[\u0080-\u{10FFFF}]/u;

/** True for the code points `foldForMatching` drops: invisible, direction controls, variation selectors. */
function isInvisible(cp: number): boolean {
  return isZeroWidth(cp) || isBidi(cp) || isVariationSelector(cp);
}

function mapConfusables(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  let out = '';
  for (const ch of text) out += CONFUSABLES[ch] ?? ch;
  return out;
}

/**
 * Text as the rules should see it: compatibility-normalised (full-width letters become ASCII), invisible code
 * points removed, Unicode tags turned back into the ASCII they spell (so smuggled text is read too),
 * combining marks dropped and look-alike letters mapped to Latin. Not for display.
 */
export function foldForMatching(text: string): string {
  if (!NON_ASCII.test(text)) return text;
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (isTag(cp)) {
      if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCodePoint(cp - 0xe0000);
    } else if (!isInvisible(cp)) out += ch;
  }
  out = out.normalize('NFKC');
  if (NON_ASCII.test(out)) out = mapConfusables(out.normalize('NFD').replace(MARKS, '')).normalize('NFC');
  return out;
}

/** A short, single-line excerpt with invisible and control characters shown as `<U+XXXX>`. */
export function visible(text: string, max = 160): string {
  let out = '';
  let count = 0;
  for (const ch of text) {
    if (count >= max) {
      out += '...';
      break;
    }
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else if (isControl(cp) || isZeroWidth(cp) || isBidi(cp) || isTag(cp) || isVariationSelector(cp))
      out += `<${hex(cp)}>`;
    else out += ch;
    count++;
  }
  return out.replace(/ {2,}/g, ' ').trim();
}
