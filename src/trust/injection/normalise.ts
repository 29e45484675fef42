import { CONFUSABLES } from './confusables.js';

/**
 * Normalisation for matching, with a map back to the original text. The lexical rules run on `lower`; every
 * character of it knows the span of original code units it came from, so findings point into what the caller
 * passed in, not into our rewrite of it.
 *
 * What it does, per code point: NFKD, drop combining diacritics, fold look-alikes to ASCII, lower-case, drop
 * invisible characters (recording where they were), collapse runs of white space to one space or one newline,
 * and undo the escaping that JSON and YAML serialisers put into tool outputs (`\n`, `\"`, a backslash before a
 * line break) so that an instruction split by a serialiser still reads as one phrase.
 */

/** Why an invisible character was removed. */
export type InvisibleKind = 'zero-width' | 'bidi' | 'tag' | 'variation-selector' | 'soft-hyphen' | 'control';

/** An invisible code point found in the original text. */
export interface Invisible {
  /** Offset in the original text. */
  pos: number;
  /** Code units it takes in the original text (2 for astral characters, 6 or 12 for a `\\u` escape). */
  len: number;
  cp: number;
  kind: InvisibleKind;
}

/** The normalised text and its map to the original. */
export interface Normalised {
  /** Folded, case preserved (for base64 and hex detection). */
  text: string;
  /** Folded and lower-cased; same length as `text`. */
  lower: string;
  /** `start[i]`: offset in the original of the first code unit behind normalised character i. */
  start: Int32Array;
  /** `end[i]`: offset in the original one past the last code unit behind normalised character i. */
  end: Int32Array;
  invisibles: Invisible[];
  loneSurrogates: number;
  /** Letters outside ASCII were seen (the homoglyph rule only runs when true). */
  nonAsciiLetters: boolean;
}

/** Kind of an invisible code point, or undefined for a visible one. */
export function invisibleKind(cp: number): InvisibleKind | undefined {
  if (cp < 0xad) return undefined;
  if (cp === 0xad) return 'soft-hyphen';
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if ((cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef)) return 'variation-selector';
  if (
    cp === 0x200e ||
    cp === 0x200f ||
    cp === 0x61c ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069)
  ) {
    return 'bidi';
  }
  if (
    (cp >= 0x200b && cp <= 0x200d) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    cp === 0xfeff ||
    cp === 0x180e ||
    cp === 0x34f ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x3164 ||
    cp === 0xffa0 ||
    cp === 0x17b4 ||
    cp === 0x17b5
  ) {
    return 'zero-width';
  }
  return undefined;
}

function isUnicodeSpace(cp: number): 0 | 1 | 2 {
  // 1: a space, 2: a line break
  if (cp === 0x2028 || cp === 0x2029 || cp === 0x85) return 2;
  if (
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  ) {
    return 1;
  }
  return 0;
}

function isCombiningMark(cp: number): boolean {
  return (
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe20 && cp <= 0xfe2f)
  );
}

// Folding a non-ASCII code point is the slow part; texts repeat few distinct ones, so cache them.
const foldCache = new Map<number, string>();
const FOLD_CACHE_LIMIT = 8192;

function foldCodePoint(cp: number): string {
  const cached = foldCache.get(cp);
  if (cached !== undefined) return cached;
  const direct = CONFUSABLES.get(cp);
  let out: string;
  if (direct !== undefined) {
    out = direct;
  } else {
    const decomposed = String.fromCodePoint(cp).normalize('NFKD');
    out = '';
    for (const ch of decomposed) {
      const c = ch.codePointAt(0) ?? 0;
      if (isCombiningMark(c)) continue;
      out += CONFUSABLES.get(c) ?? ch;
    }
  }
  if (foldCache.size < FOLD_CACHE_LIMIT) foldCache.set(cp, out);
  return out;
}

function isLetterish(cp: number): boolean {
  // Cheap test: anything above Latin-1 punctuation that is not a symbol block we care about.
  return cp >= 0xc0 && !(cp >= 0x2000 && cp <= 0x2bff) && !(cp >= 0x1f000 && cp <= 0x1faff);
}

/** Value of the four hex digits at `at`, or -1. */
function hex4(text: string, at: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const h = text.charCodeAt(at + k);
    const d =
      h >= 0x30 && h <= 0x39
        ? h - 0x30
        : h >= 0x61 && h <= 0x66
          ? h - 0x57
          : h >= 0x41 && h <= 0x46
            ? h - 0x37
            : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

function decodeUnits(arr: Uint16Array, n: number): string {
  const parts: string[] = [];
  const CHUNK = 4096;
  for (let i = 0; i < n; i += CHUNK) {
    parts.push(
      String.fromCharCode.apply(null, arr.subarray(i, Math.min(n, i + CHUNK)) as unknown as number[]),
    );
  }
  return parts.join('');
}

/** Normalise `text` for matching. Linear in the length; never throws on any string, including lone surrogates. */
export function normalise(text: string): Normalised {
  const len = text.length;
  // Written as one flat loop over typed arrays: this is the hot path of every scan.
  let cap = Math.max(16, len + (len >> 3));
  let cased = new Uint16Array(cap);
  let lower = new Uint16Array(cap);
  let start = new Int32Array(cap);
  let end = new Int32Array(cap);
  let n = 0;
  const invisibles: Invisible[] = [];
  let loneSurrogates = 0;
  let nonAsciiLetters = false;

  const grow = (): void => {
    cap = cap * 2 + 16;
    const c = new Uint16Array(cap);
    c.set(cased);
    cased = c;
    const l = new Uint16Array(cap);
    l.set(lower);
    lower = l;
    const s = new Int32Array(cap);
    s.set(start);
    start = s;
    const e = new Int32Array(cap);
    e.set(end);
    end = e;
  };

  let i = 0;
  while (i < len) {
    let c = text.charCodeAt(i);
    let ws = 0; // 1: space, 2: line break
    const from = i;
    let to = i + 1;
    let escaped = false;
    // \\uXXXX escapes (JSON with ensure_ascii, JavaScript strings) read as the character they stand for.
    if (c === 0x5c && text.charCodeAt(i + 1) === 0x75) {
      const u = hex4(text, i + 2);
      if (u >= 0) {
        c = u;
        to = i + 6;
        escaped = true;
      }
    }
    if (c < 0x80) {
      if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c) {
        ws = 1;
      } else if (c === 0x0a || c === 0x0d) {
        ws = 2;
      } else if (c === 0x5c /* backslash */ && !escaped && i + 1 < len) {
        // Serialiser escapes: \n \r \t, a backslash before white space (YAML line folding), \" \' and \\.
        const d = text.charCodeAt(i + 1);
        if (d === 0x6e || d === 0x72) {
          ws = 2;
          to = i + 2;
        } else if (d === 0x74) {
          ws = 1;
          to = i + 2;
        } else if (d === 0x20 || d === 0x09) {
          ws = 1;
        } else if (d === 0x0a || d === 0x0d) {
          ws = 2;
        } else if (d === 0x22 || d === 0x27 || d === 0x5c) {
          if (n === cap) grow();
          cased[n] = d;
          lower[n] = d;
          start[n] = i;
          end[n] = i + 2;
          n++;
          i += 2;
          continue;
        }
      } else if (c < 0x20 || c === 0x7f) {
        invisibles.push({ pos: i, len: to - i, cp: c, kind: 'control' });
        if (n > 0) end[n - 1] = to;
        i = to;
        continue;
      }
      if (ws === 0) {
        if (n === cap) grow();
        cased[n] = c;
        lower[n] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
        start[n] = i;
        end[n] = to;
        n++;
        i = to;
        continue;
      }
    } else {
      let cp = c;
      if (c >= 0xd800 && c <= 0xdbff) {
        let d = to < len ? text.charCodeAt(to) : 0;
        let dw = 1;
        if (escaped) {
          d = text.charCodeAt(to) === 0x5c && text.charCodeAt(to + 1) === 0x75 ? hex4(text, to + 2) : -1;
          dw = 6;
        }
        if (d >= 0xdc00 && d <= 0xdfff) {
          cp = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
          to += dw;
        } else {
          cp = -1;
        }
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        cp = -1;
      }
      if (cp < 0) {
        // A lone surrogate (invalid UTF-16) is dropped like an invisible character, so it cannot split a word.
        loneSurrogates++;
        invisibles.push({ pos: i, len: to - i, cp: c, kind: 'control' });
        if (n > 0) end[n - 1] = to;
        i = to;
        continue;
      }
      const kind = invisibleKind(cp);
      const sp = kind === undefined ? isUnicodeSpace(cp) : 0;
      if (sp !== 0) {
        ws = sp;
      } else {
        if (kind !== undefined || cp < 0xa0 || isCombiningMark(cp)) {
          if (kind !== undefined) invisibles.push({ pos: i, len: to - i, cp, kind });
          else if (cp < 0xa0) invisibles.push({ pos: i, len: to - i, cp, kind: 'control' });
          if (n > 0) end[n - 1] = to;
          i = to;
          continue;
        }
        if (!nonAsciiLetters && isLetterish(cp)) nonAsciiLetters = true;
        const folded = foldCodePoint(cp);
        if (folded.length === 0 && n > 0) end[n - 1] = to;
        for (let k = 0; k < folded.length; k++) {
          const u = folded.charCodeAt(k);
          let lu = u;
          if (u >= 0x41 && u <= 0x5a) lu = u + 32;
          else if (u >= 0x80) {
            const l = String.fromCharCode(u).toLowerCase();
            if (l.length === 1) lu = l.charCodeAt(0);
          }
          if (n === cap) grow();
          cased[n] = u;
          lower[n] = lu;
          start[n] = i;
          end[n] = to;
          n++;
        }
        i = to;
        continue;
      }
    }
    // White space: one space or one line break per run; a line break wins over a space.
    if (n > 0 && (cased[n - 1] === 0x20 || cased[n - 1] === 0x0a)) {
      end[n - 1] = to;
      if (ws === 2) {
        cased[n - 1] = 0x0a;
        lower[n - 1] = 0x0a;
      }
    } else {
      if (n === cap) grow();
      const u = ws === 2 ? 0x0a : 0x20;
      cased[n] = u;
      lower[n] = u;
      start[n] = from;
      end[n] = to;
      n++;
    }
    i = to;
  }

  return {
    text: decodeUnits(cased, n),
    lower: decodeUnits(lower, n),
    start: start.subarray(0, n),
    end: end.subarray(0, n),
    invisibles,
    loneSurrogates,
    nonAsciiLetters,
  };
}

/** Map a span of the normalised text back to the original. `s < e` are normalised offsets. */
export function toOriginal(norm: Normalised, s: number, e: number): [number, number] {
  const n = norm.start.length;
  if (n === 0) return [0, 0];
  const a = Math.min(Math.max(s, 0), n - 1);
  const z = Math.min(Math.max(e - 1, a), n - 1);
  return [norm.start[a] ?? 0, norm.end[z] ?? 0];
}
