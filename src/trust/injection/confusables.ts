/**
 * Look-alike characters folded to ASCII before the lexical rules run, and a coarse script classifier for the
 * homoglyph rule. The table is deliberately small: letters that render like Latin letters in common fonts
 * (Cyrillic, Greek, Armenian, Latin small capitals and IPA), and punctuation that changes how phrases match
 * (curly quotes, dashes). NFKD already handles full-width, mathematical and circled letters.
 */

// prettier-ignore
const PAIRS: readonly (readonly [string, string])[] = [
  // Cyrillic lower case
  ['а', 'a'], ['в', 'b'], ['е', 'e'], ['ё', 'e'], ['к', 'k'], ['м', 'm'], ['н', 'h'], ['о', 'o'], ['р', 'p'],
  ['с', 'c'], ['т', 't'], ['у', 'y'], ['х', 'x'], ['і', 'i'], ['ї', 'i'], ['ј', 'j'], ['ѕ', 's'], ['һ', 'h'],
  ['ԁ', 'd'], ['ԛ', 'q'], ['ԝ', 'w'], ['ӏ', 'l'], ['ɡ', 'g'], ['ү', 'y'], ['ѵ', 'v'], ['ո', 'n'],
  // Cyrillic upper case
  ['А', 'A'], ['В', 'B'], ['Е', 'E'], ['К', 'K'], ['М', 'M'], ['Н', 'H'], ['О', 'O'], ['Р', 'P'], ['С', 'C'],
  ['Т', 'T'], ['У', 'Y'], ['Х', 'X'], ['І', 'I'], ['Ј', 'J'], ['Ѕ', 'S'], ['Ԁ', 'D'], ['Ԛ', 'Q'], ['Ԝ', 'W'],
  ['Ӏ', 'I'], ['Һ', 'H'], ['Ү', 'Y'],
  // Greek
  ['α', 'a'], ['β', 'b'], ['ε', 'e'], ['ι', 'i'], ['κ', 'k'], ['ν', 'v'], ['ο', 'o'], ['ρ', 'p'], ['τ', 't'],
  ['υ', 'u'], ['χ', 'x'], ['ω', 'w'], ['ϲ', 'c'], ['ϳ', 'j'],
  ['Α', 'A'], ['Β', 'B'], ['Ε', 'E'], ['Ζ', 'Z'], ['Η', 'H'], ['Ι', 'I'], ['Κ', 'K'], ['Μ', 'M'], ['Ν', 'N'],
  ['Ο', 'O'], ['Ρ', 'P'], ['Τ', 'T'], ['Υ', 'Y'], ['Χ', 'X'], ['Ϲ', 'C'],
  // Armenian
  ['օ', 'o'], ['ս', 'u'], ['ց', 'g'], ['հ', 'h'], ['զ', 'q'], ['ա', 'w'],
  // Latin small capitals, IPA and dotless forms
  ['ı', 'i'], ['ȷ', 'j'], ['ɑ', 'a'], ['ɢ', 'g'], ['ɪ', 'i'], ['ɴ', 'n'], ['ʀ', 'r'], ['ʏ', 'y'], ['ʜ', 'h'],
  ['ʟ', 'l'], ['ʙ', 'b'], ['ᴀ', 'a'], ['ᴄ', 'c'], ['ᴅ', 'd'], ['ᴇ', 'e'], ['ᴊ', 'j'], ['ᴋ', 'k'], ['ᴍ', 'm'],
  ['ᴏ', 'o'], ['ᴘ', 'p'], ['ᴛ', 't'], ['ᴜ', 'u'], ['ᴠ', 'v'], ['ᴡ', 'w'], ['ᴢ', 'z'], ['ꜰ', 'f'], ['ꜱ', 's'],
  ['ɩ', 'i'], ['ɒ', 'a'], ['ɔ', 'c'], ['ɛ', 'e'], ['ʋ', 'u'],
  // punctuation that changes phrase matching
  ['\u2018', "'"], ['\u2019', "'"], ['\u201A', "'"], ['\u201B', "'"], ['\u2032', "'"], ['\u02BC', "'"],
  ['\u201C', '"'], ['\u201D', '"'], ['\u201E', '"'], ['\u2033', '"'], ['\u00AB', '"'], ['\u00BB', '"'],
  ['\u2010', '-'], ['\u2011', '-'], ['\u2012', '-'], ['\u2013', '-'], ['\u2014', '-'], ['\u2015', '-'],
  ['\u2212', '-'], ['\u2044', '/'], ['\u2215', '/'], ['\u01C0', '|'], ['\u2223', '|'], ['\u2039', '<'],
  ['\u203A', '>'], ['\u02D0', ':'], ['\u0589', ':'], ['\uA789', ':'], ['\u2236', ':'],
];

/** Code point -> ASCII replacement. */
export const CONFUSABLES: ReadonlyMap<number, string> = new Map(
  PAIRS.map(([from, to]) => [from.codePointAt(0) ?? 0, to] as const),
);

/** Coarse scripts that matter for look-alike detection. */
export type Script = 'latin' | 'cyrillic' | 'greek' | 'armenian' | 'other';

/** Script of a letter's code point. Only distinguishes the scripts that carry Latin look-alikes. */
export function scriptOf(cp: number): Script {
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ? 'latin' : 'other';
  if (cp >= 0xc0 && cp <= 0x24f && cp !== 0xd7 && cp !== 0xf7) return 'latin';
  if (cp >= 0x250 && cp <= 0x2af) return 'latin'; // IPA
  if (cp >= 0x1d00 && cp <= 0x1dbf) return 'latin'; // phonetic extensions, small capitals
  if (cp >= 0x1e00 && cp <= 0x1eff) return 'latin';
  if (cp >= 0xa720 && cp <= 0xa7ff) return 'latin';
  if (cp >= 0xff21 && cp <= 0xff5a) return 'latin'; // full-width
  if (cp >= 0x370 && cp <= 0x3ff) return 'greek';
  if (cp >= 0x1f00 && cp <= 0x1fff) return 'greek';
  if (cp >= 0x400 && cp <= 0x52f) return 'cyrillic';
  if (cp >= 0x530 && cp <= 0x58f) return 'armenian';
  return 'other';
}
