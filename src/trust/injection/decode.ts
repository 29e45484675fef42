import type { Normalised } from './normalise.js';
import { toOriginal } from './normalise.js';

/**
 * Encoded text: candidates that may decode to instructions. Each candidate is decoded once (one level deep),
 * only when it is of bounded size and decodes to readable text; scan.ts rescans the decoded text with the
 * lexical rules and reports an `encoding` finding when it reads like an injection.
 */

/** A decoded candidate, with its span in the original text. */
export interface Decoded {
  start: number;
  end: number;
  kind: 'base64' | 'hex' | 'url' | 'escape' | 'entity' | 'rot13' | 'reversed';
  text: string;
}

/** Longest candidate decoded; longer blobs are decoded up to this many characters. */
export const MAX_CANDIDATE = 16_384;
/** Total decoded characters per scan. */
export const DECODE_BUDGET = 65_536;
const MAX_CANDIDATES = 64;

// The look-behind makes each run start once, so the scan stays linear over long words.
const BASE64 = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,}={0,2}/g;
const HEX_SEPARATED =
  /(?:\\x[0-9a-fA-F]{2}){6,}|(?:[0-9a-fA-F]{2}[ :,]){8,}[0-9a-fA-F]{2}\b|(?:0x[0-9a-fA-F]{2}[ ,]{1,2}){8,}0x[0-9a-fA-F]{2}\b/g;
const URL_ENCODED =
  /(?<![A-Za-z0-9._~+!*'(),;/?:@&=$%-])(?:%[0-9a-fA-F]{2}|[A-Za-z0-9._~+!*'(),;/?:@&=$-]){12,}/g;
const UNICODE_ESCAPES = /(?:\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]{1,6}\}){4,}/g;
const HTML_ENTITIES = /(?:&#(?:[xX][0-9a-fA-F]{1,6}|[0-9]{1,7});){4,}/g;
const ROT13_WORDS =
  /\b(?:vtaber|qvfertneq|vafgehpgvbaf?|cerivbhf|flfgrz|cebzcg|nffvfgnag|cnffjbeq|bireevqr|sbetrg|qrirybcre|frperg|rkrphgr|nqzva)\b/g;
const REVERSED_WORDS =
  /\b(?:erongi|dragersid|snoitcurtsni|noitcurtsni|suoiverp|tpmorp|metsys|tnatsissa|drowssap|edirrevo|tegrof|repoleved|terces)\b/g;

/** Share of decoded characters that look like text (letters, digits, punctuation, spaces). */
function readable(s: string): boolean {
  if (s.length < 8) return false;
  let ok = 0;
  let letters = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 || c >= 0xa0) ok++;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) letters++;
  }
  return ok / s.length >= 0.92 && letters / s.length >= 0.5 && /[a-z]{2,}\s+[a-z]{2,}/i.test(s);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeBytes(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function decodeBase64(s: string): string | undefined {
  const body = s.replace(/=+$/, '');
  const usable = body.length - (body.length % 4 === 1 ? 1 : 0);
  return decodeBytes(Buffer.from(body.slice(0, usable), 'base64'));
}

function decodeHex(s: string): string | undefined {
  const digits = s.replace(/\\x|0x|[ :,]/g, '');
  if (digits.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(digits)) return undefined;
  return decodeBytes(Buffer.from(digits, 'hex'));
}

function decodePercent(s: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 0x2b) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      return undefined;
    }
  }
  return decodeBytes(Uint8Array.from(bytes));
}

function rot13(s: string): string {
  return s.replace(/[a-zA-Z]/g, (ch) => {
    const c = ch.charCodeAt(0);
    const base = c >= 0x61 ? 0x61 : 0x41;
    return String.fromCharCode(((c - base + 13) % 26) + base);
  });
}

function lineAround(text: string, pos: number): [number, number] {
  let s = text.lastIndexOf('\n', pos);
  s = s < 0 ? 0 : s + 1;
  s = Math.max(s, pos - 1000);
  let e = text.indexOf('\n', pos);
  if (e < 0) e = text.length;
  e = Math.min(e, pos + 1000);
  return [s, e];
}

/** Find and decode candidates in the normalised text. Bounded: MAX_CANDIDATES, MAX_CANDIDATE, DECODE_BUDGET. */
export function decodeCandidates(norm: Normalised): { decoded: Decoded[]; exhausted: boolean } {
  const text = norm.text;
  const decoded: Decoded[] = [];
  let budget = DECODE_BUDGET;
  let exhausted = false;
  let tried = 0;

  const take = (s: number, e: number, kind: Decoded['kind'], value: string | undefined): void => {
    if (value === undefined || !readable(value)) return;
    const [start, end] = toOriginal(norm, s, e);
    decoded.push({ start, end, kind, text: value });
  };
  const spend = (n: number): boolean => {
    tried++;
    if (tried > MAX_CANDIDATES || budget <= 0) {
      exhausted = true;
      return false;
    }
    budget -= n;
    return true;
  };

  const scanRe = (re: RegExp, fn: (m: string, s: number, e: number) => void): void => {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text)) !== null && !exhausted) {
      fn(m[0], m.index, m.index + m[0].length);
    }
    re.lastIndex = 0;
  };

  scanRe(BASE64, (m, s, e) => {
    // Base64 of text mixes upper and lower case; identifiers, slugs, paths and hex digests rarely do.
    let upper = 0;
    let lower = 0;
    for (let i = 0; i < Math.min(m.length, 256); i++) {
      const c = m.charCodeAt(i);
      if (c >= 0x41 && c <= 0x5a) upper++;
      else if (c >= 0x61 && c <= 0x7a) lower++;
    }
    const candidate = m.slice(0, MAX_CANDIDATE - (MAX_CANDIDATE % 4));
    if (/^[0-9a-fA-F]+$/.test(m) && m.length % 2 === 0 && m.length >= 24) {
      if (spend(candidate.length)) take(s, e, 'hex', decodeHex(candidate));
      return;
    }
    if (upper < 2 || lower < 2) return;
    if (spend(candidate.length)) take(s, e, 'base64', decodeBase64(candidate));
  });
  scanRe(HEX_SEPARATED, (m, s, e) => {
    if (spend(m.length)) take(s, e, 'hex', decodeHex(m.slice(0, MAX_CANDIDATE)));
  });
  if (text.includes('%'))
    scanRe(URL_ENCODED, (m, s, e) => {
      const escapes = m.match(/%[0-9a-fA-F]{2}/g)?.length ?? 0;
      if (escapes < 3) return;
      if (spend(m.length)) take(s, e, 'url', decodePercent(m.slice(0, MAX_CANDIDATE)));
    });
  if (text.includes('\\u'))
    scanRe(UNICODE_ESCAPES, (m, s, e) => {
      if (!spend(m.length)) return;
      const v = m
        .slice(0, MAX_CANDIDATE)
        .replace(
          /\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})/g,
          (_x, a: string | undefined, b: string | undefined) => {
            const cp = parseInt(a ?? b ?? '0', 16);
            return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
          },
        );
      take(s, e, 'escape', v);
    });
  if (text.includes('&#'))
    scanRe(HTML_ENTITIES, (m, s, e) => {
      if (!spend(m.length)) return;
      const v = m
        .slice(0, MAX_CANDIDATE)
        .replace(/&#([xX]?)([0-9a-fA-F]+);/g, (_x, hex: string, num: string) => {
          const cp = parseInt(num, hex === '' ? 10 : 16);
          return cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
        });
      take(s, e, 'entity', v);
    });

  // rot13 and reversed text: look for tell-tale words, then decode the line they are on.
  const lower = norm.lower;
  const lineJob = (re: RegExp, kind: 'rot13' | 'reversed', fn: (s: string) => string): void => {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    let lastLineEnd = -1;
    while ((m = re.exec(lower)) !== null && !exhausted) {
      if (m.index < lastLineEnd) continue;
      const [s, e] = lineAround(lower, m.index);
      lastLineEnd = e;
      if (!spend(e - s)) break;
      const value = fn(text.slice(s, e));
      const [start, end] = toOriginal(norm, s, e);
      decoded.push({ start, end, kind, text: value });
    }
    re.lastIndex = 0;
  };
  lineJob(ROT13_WORDS, 'rot13', rot13);
  lineJob(REVERSED_WORDS, 'reversed', (s) => Array.from(s).reverse().join(''));

  return { decoded, exhausted };
}
