/**
 * Normalisation and tokenisation shared by indexing (observe time) and lookup (decision time). Both sides go
 * through the same functions, so a value matches the text it came from after ordinary reformatting: case,
 * white space, URL encoding, HTML entities, Unicode compatibility forms, thousands separators, trailing zeros,
 * spaces inside account numbers. Tokens are whole: `123` is never found inside `91234`.
 *
 * Every regular expression here is linear: no nested quantifier can match the same text two ways.
 */

/** Characters a compound token may join on (`a.b@c.com`, `bill-2023.txt`, `acct_9`, `12:30`, `l'ami`). */
const JOINERS = "._-@+/:#'’~";

/*
 * Character classes of the scanner. A token is a compound `alnum+ (joiner alnum+)*`, or a number with thousands
 * separators; a phrase ends at a break character, or at `.` or `:` followed by white space or the end. The scanner is
 * a single forward pass over char codes (no regular expression on the hot path), linear in the text length.
 */
const C_OTHER = 0;
const C_ALNUM = 1;
const C_JOIN = 2;
const C_BREAK = 3;
/** A combining mark: part of a word, but not a letter or digit for the end-of-number check. */
const C_MARK = 4;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) ASCII_CLASS[c] = C_ALNUM;
for (let c = 0x41; c <= 0x5a; c++) ASCII_CLASS[c] = C_ALNUM;
for (let c = 0x61; c <= 0x7a; c++) ASCII_CLASS[c] = C_ALNUM;
for (const ch of "._-@+/:#'~") ASCII_CLASS[ch.charCodeAt(0)] = C_JOIN;
for (const ch of '\n\r,;|()[]{}<>"!?=&*') ASCII_CLASS[ch.charCodeAt(0)] = C_BREAK;
const LN_RE = /^[\p{L}\p{N}]$/u;
const MARK_RE = /^\p{M}$/u;
const SPACE_RE = /^\s$/u;
const wideClass = new Map<number, number>();

function classOfCodePoint(cp: number): number {
  if (cp < 128) return ASCII_CLASS[cp] ?? C_OTHER;
  if (cp === 0x2019) return C_JOIN;
  if (cp === 0x2022 || cp === 0xb7) return C_BREAK;
  let k = wideClass.get(cp);
  if (k === undefined) {
    const ch = String.fromCodePoint(cp);
    k = LN_RE.test(ch) ? C_ALNUM : MARK_RE.test(ch) ? C_MARK : C_OTHER;
    if (wideClass.size < 65_536) wideClass.set(cp, k);
  }
  return k;
}

/** Code point at i and its width in UTF-16 units (lone surrogates are their own code point). */
function codePointAt(text: string, i: number): number {
  return text.codePointAt(i) ?? 0;
}

function isSpace(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  return c >= 0x80 && SPACE_RE.test(text.charAt(i));
}

function isDigit(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 0x30 && c <= 0x39;
}

/** True when the code point at i is a letter or digit (what ends a number). False past the end. */
function isLetterOrDigit(text: string, i: number): boolean {
  if (i >= text.length) return false;
  return classOfCodePoint(codePointAt(text, i)) === C_ALNUM;
}

const T_NUMBER = 0;
const T_COMPOUND = 1;
const T_BREAK = 2;

/** Receives the scanner's tokens. An object rather than a closure: nothing is allocated per call on the hot path. */
interface TokenHandler {
  token(text: string, kind: number, start: number, end: number, joined: boolean): void;
}

/**
 * Calls `h.token(text, kind, start, end, joined)` for each token in order: a grouped number (`1,000.50`), a compound
 * (`joined` when it holds a joiner) or a phrase break.
 */
function scanTokens(text: string, h: TokenHandler): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(text, i);
    const width = cp > 0xffff ? 2 : 1;
    const k = classOfCodePoint(cp);
    if (k === C_ALNUM || k === C_MARK) {
      if (isDigit(text, i)) {
        const end = groupedNumberEnd(text, i);
        if (end > 0) {
          h.token(text, T_NUMBER, i, end, false);
          i = end;
          continue;
        }
      }
      let j = i;
      let joined = false;
      for (;;) {
        while (j < n) {
          const c2 = codePointAt(text, j);
          const k2 = classOfCodePoint(c2);
          if (k2 !== C_ALNUM && k2 !== C_MARK) break;
          j += c2 > 0xffff ? 2 : 1;
        }
        if (j + 1 < n && classOfCodePoint(text.charCodeAt(j)) === C_JOIN) {
          const c3 = codePointAt(text, j + 1);
          const k3 = classOfCodePoint(c3);
          if (k3 === C_ALNUM || k3 === C_MARK) {
            joined = true;
            j += 1;
            continue;
          }
        }
        break;
      }
      h.token(text, T_COMPOUND, i, j, joined);
      i = j;
      continue;
    }
    if (k === C_BREAK || ((cp === 0x2e || cp === 0x3a) && (i + 1 >= n || isSpace(text, i + 1))))
      h.token(text, T_BREAK, i, i + 1, false);
    i += width;
  }
}

/**
 * End of a number with thousands separators starting at i (`1,000`, `12,345.67`), or 0. It must not run into a
 * letter or digit: `1,0000` is `1,000` followed by a `0` only if that leaves a clean end, as a reader would split it.
 */
function groupedNumberEnd(text: string, i: number): number {
  let d = i;
  while (isDigit(text, d)) d++;
  if (d - i > 3 || text.charCodeAt(d) !== 0x2c) return 0;
  const ends: number[] = [];
  let p = d;
  while (
    text.charCodeAt(p) === 0x2c &&
    isDigit(text, p + 1) &&
    isDigit(text, p + 2) &&
    isDigit(text, p + 3)
  ) {
    p += 4;
    ends.push(p);
  }
  if (ends.length === 0) return 0;
  const last = ends[ends.length - 1] ?? 0;
  if (text.charCodeAt(last) === 0x2e && isDigit(text, last + 1)) {
    let f = last + 1;
    while (isDigit(text, f)) f++;
    if (!isLetterOrDigit(text, f)) return f;
  }
  for (let g = ends.length - 1; g >= 0; g--) {
    const e = ends[g] ?? 0;
    if (!isLetterOrDigit(text, e)) return e;
  }
  return 0;
}

const JOINER_SPLIT_RE = /[._\-@+/:#'’~]/;

/** An absolute URL in text: scheme, `://`, then anything up to white space or a delimiter. */
const URL_IN_TEXT_RE = /\b(?:https?|ftp|wss?):\/\/[^\s<>"'`()[\]{}|\\^]{1,2048}/giu;

const FORMAT_CHARS_RE =
  /\p{Cf}|\p{Variation_Selector}|\u115f|\u1160|\u17b4|\u17b5|\u180e|\u3164|\uffa0|\u034f/gu;
const PERCENT_RUN_RE = /(?:%[0-9a-fA-F]{2})+/g;
const ENTITY_RE = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos|nbsp));/g;
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};
const WS_RE = /\s+/gu;
const ASCII_PLAIN_RE = /^[\t\n\r\x20-\x24\x27-\x7e]*$/;
const DIGIT_RE = /\p{N}/u;
const NUMBER_RE = /^\d+(?:\.\d+)?$/;

/** Longest code-group run whose concatenations are indexed (IBAN and card numbers written in groups). */
const MAX_GROUP_RUN = 10;
/** Longest squashed key. */
const MAX_SQUASH = 64;
/** Longest single key kept; longer tokens are not identifiers anyone retypes. */
export const MAX_KEY = 256;

/** Replaces lone surrogates with U+FFFD so that every later step sees well-formed text. */
export function wellFormed(text: string): string {
  // Fast path: no surrogate at all.
  if (!/[\ud800-\udfff]/.test(text)) return text;
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function decodePercent(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(PERCENT_RUN_RE, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(
    ENTITY_RE,
    (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
      if (name !== undefined) return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
      const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
      if (!Number.isFinite(cp) || cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return whole;
      return String.fromCodePoint(cp);
    },
  );
}

/**
 * Canonical text for matching, case preserved: well-formed, URL- and entity-decoded, NFKC, without invisible
 * format characters (zero-width, bidi, tags, variation selectors). Plain ASCII skips the Unicode steps.
 */
export function cleanText(text: string): string {
  let t = wellFormed(text);
  if (ASCII_PLAIN_RE.test(t)) return t;
  t = decodeEntities(decodePercent(t));
  t = t.normalize('NFKC');
  return t.replace(FORMAT_CHARS_RE, '');
}

/** Lower case with white space collapsed and trimmed: the key of a whole value. */
export function fullKey(clean: string): string {
  return clean.toLowerCase().replace(WS_RE, ' ').trim();
}

/** `98.70` → `98.7`, `1,000.00` → `1000`, `007` stays `007` (leading zeros are significant in identifiers). */
export function canonNumber(text: string): string | undefined {
  const s = text.replace(/,/g, '');
  if (!NUMBER_RE.test(s)) return undefined;
  const dot = s.indexOf('.');
  if (dot < 0) return s;
  const frac = s.slice(dot + 1).replace(/0+$/, '');
  return frac.length === 0 ? s.slice(0, dot) : `${s.slice(0, dot)}.${frac}`;
}

/** Key of a number argument: its canonical decimal form, sign dropped (text rarely keeps it: "refund 50"). */
export function numberKey(n: number | bigint): string | undefined {
  if (typeof n === 'bigint') return (n < 0n ? -n : n).toString();
  if (!Number.isFinite(n)) return undefined;
  const abs = Math.abs(n);
  // Up to 15 significant digits, no exponent for ordinary amounts.
  const s = abs >= 1e21 ? String(abs) : abs.toFixed(Number.isInteger(abs) ? 0 : 10);
  return canonNumber(s) ?? s;
}

/**
 * Normalised URL key: lower-case scheme and host, default port dropped, path, query and fragment decoded,
 * trailing slash of the path dropped. Undefined when the text is not an absolute URL.
 */
export function urlKey(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    return undefined;
  }
  return urlKeyOf(u);
}

/** {@link urlKey} of an already parsed URL. */
export function urlKeyOf(u: URL): string | undefined {
  if (u.host === '') return undefined;
  let path = safeDecode(u.pathname);
  if (path.endsWith('/')) path = path.slice(0, -1);
  const query = u.search.length > 1 ? '?' + safeDecode(u.search.slice(1).replace(/\+/g, ' ')) : '';
  const frag = u.hash.length > 1 ? '#' + safeDecode(u.hash.slice(1)) : '';
  const auth = u.username || u.password ? `${safeDecode(u.username)}:${safeDecode(u.password)}@` : '';
  return `${u.protocol}//${auth}${u.host.toLowerCase()}${path}${query}${frag}`
    .normalize('NFKC')
    .toLowerCase();
}

/** decodeURIComponent that leaves malformed escapes as they are. */
export function safeDecode(s: string): string {
  return decodePercent(s);
}

/** True for keys that are worth treating as data on their own (not plain words): ids, numbers, emails, codes. */
export function isValueLike(key: string): boolean {
  if (key.length >= 16) return true;
  if (key.includes('@')) return true;
  if (key.length >= 5 && DIGIT_RE.test(key)) return true;
  if (key.length >= 8) {
    for (const j of JOINERS) if (key.includes(j)) return true;
  }
  return false;
}

/** What one pass over a text produces. Callbacks keep allocation low on the indexing path. */
export interface TokenSink {
  /** A key (word, compound, number, squashed group, bigram, URL). */
  key(k: string): void;
  /** A phrase ended: its words, lower-case, in order (used by the phrase check of output inspection). */
  phrase?(words: readonly string[]): void;
}

/**
 * Tokenises clean text (see {@link cleanText}) into keys: each URL; each compound token and its parts; canonical
 * numbers; bigrams of consecutive words inside a phrase (phrases end at new lines and punctuation); and for runs of
 * short upper-case or digit groups (`DE89 3704 0044`), their concatenations. Stops after `maxChars` characters.
 */
export function tokenize(clean: string, sink: TokenSink, maxChars = Number.POSITIVE_INFINITY): void {
  const text = clean.length > maxChars ? clean.slice(0, maxChars) : clean;
  if (text.includes('://')) {
    URL_IN_TEXT_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = URL_IN_TEXT_RE.exec(text)) !== null) {
      const raw = m[0].replace(/[.,;:!?'"]+$/, '');
      const k = urlKey(raw);
      if (k !== undefined && k.length <= 4 * MAX_KEY) sink.key(k);
    }
    URL_IN_TEXT_RE.lastIndex = 0;
  }
  const emitter = new KeyEmitter(sink);
  scanTokens(text, emitter);
  emitter.endPhrase();
}

/** Turns scanner tokens into keys: words, bigrams inside a phrase, compounds, numbers, grouped codes. */
class KeyEmitter implements TokenHandler {
  private words: string[] = [];
  private group: string[] = [];
  constructor(private readonly sink: TokenSink) {}

  token(text: string, kind: number, start: number, end: number, joined: boolean): void {
    if (kind === T_BREAK) {
      this.endPhrase();
      return;
    }
    const raw = text.slice(start, end);
    if (kind === T_NUMBER) {
      const c = canonNumber(raw);
      if (c !== undefined) this.sink.key(c);
      // A grouped number is one value: it is also a word of the phrase.
      this.pushWord(c ?? raw, raw);
      return;
    }
    const lower = raw.toLowerCase();
    if (!joined) {
      this.pushWord(lower, raw);
      return;
    }
    if (lower.length <= MAX_KEY) this.sink.key(lower);
    if (isDigit(lower, 0)) {
      const c = canonNumber(lower);
      if (c !== undefined && c !== lower) this.sink.key(c);
    }
    for (const p of raw.split(JOINER_SPLIT_RE)) if (p.length > 0) this.pushWord(p.toLowerCase(), p);
  }

  endPhrase(): void {
    this.flushGroup();
    if (this.words.length > 0) {
      this.sink.phrase?.(this.words);
      this.words = [];
    }
  }

  private flushGroup(): void {
    if (this.group.length >= 2) emitGroups(this.group, this.sink);
    this.group = [];
  }

  private pushWord(lower: string, original: string): void {
    if (lower.length <= MAX_KEY) this.sink.key(lower);
    const prev = this.words[this.words.length - 1];
    if (prev !== undefined) {
      const bigram = `${prev} ${lower}`;
      if (bigram.length <= MAX_KEY) this.sink.key(bigram);
    }
    this.words.push(lower);
    if (isCodeGroup(original)) this.group.push(lower);
    else if (this.group.length > 0) this.flushGroup();
  }
}

/** A short group of upper-case letters and digits, as account and card numbers are written (`DE89`, `3704`). */
function isCodeGroup(s: string): boolean {
  if (s.length > 8) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a))) return false;
  }
  return true;
}

function hasDigit(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) return true;
    if (c >= 0x80) return DIGIT_RE.test(s);
  }
  return false;
}

/** Emits the concatenations of every sub-run of 2+ code groups that holds a digit (bounded). */
function emitGroups(group: readonly string[], sink: TokenSink): void {
  for (let i = 0; i < group.length; i++) {
    let acc = group[i] ?? '';
    let digit = hasDigit(acc);
    for (let j = i + 1; j < group.length && j - i < MAX_GROUP_RUN; j++) {
      const g = group[j] ?? '';
      acc += g;
      if (acc.length > MAX_SQUASH) break;
      digit ||= hasDigit(g);
      if (digit) sink.key(acc);
    }
  }
}

/** The pieces of a value for lookup: the whole value's key, its compounds, its phrases, its squashed form. */
export interface ValueShape {
  full: string;
  /**
   * Keys every one of which must be found: each compound token (`a.b@c.com`, `98.70` as `98.7`), and for each run
   * of plain words between them, its bigrams (or the word, for a run of one).
   */
  parts: string[];
  /** All letters and digits of the value, concatenated (matches `DE89 3704…` against `DE893704…`). */
  squashed: string;
}

/** Splits a clean value into the keys a lookup needs. */
export function shapeOf(clean: string): ValueShape {
  const full = fullKey(clean);
  const b = new ShapeBuilder();
  scanTokens(clean, b);
  b.endChain();
  return { full, parts: b.parts, squashed: full.replace(/[^\p{L}\p{N}]/gu, '') };
}

/** Collects a value's parts: compounds and numbers whole, runs of plain words as bigrams. */
class ShapeBuilder implements TokenHandler {
  readonly parts: string[] = [];
  private chain: string[] = [];

  token(text: string, kind: number, start: number, end: number, joined: boolean): void {
    if (kind === T_BREAK) {
      this.endChain();
      return;
    }
    const raw = text.slice(start, end);
    if (kind === T_NUMBER) {
      this.endChain();
      this.parts.push(canonNumber(raw) ?? raw);
    } else if (joined) {
      this.endChain();
      const lower = raw.toLowerCase();
      this.parts.push(canonNumber(lower) ?? lower);
    } else {
      this.chain.push(raw.toLowerCase());
    }
  }

  endChain(): void {
    const c = this.chain;
    if (c.length === 1) this.parts.push(c[0] ?? '');
    for (let i = 1; i < c.length; i++) this.parts.push(`${c[i - 1] ?? ''} ${c[i] ?? ''}`);
    this.chain = [];
  }
}
