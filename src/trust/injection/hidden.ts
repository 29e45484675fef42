import { fromNorm, type RawFinding } from './engine.js';
import type { Invisible, Normalised } from './normalise.js';

/**
 * Hidden text: characters a person does not see (zero-width, Unicode tags, bidi overrides, variation-selector
 * runs) and markup a browser does not render (HTML comments, `display:none`, zero font size, off-screen).
 * Hidden markup is common and harmless on its own, so a hidden region scores low; scan.ts raises it, and the
 * findings inside it, when instructions are found inside.
 */

/** Text smuggled in invisible characters, decoded for a rescan. */
export interface Smuggled {
  start: number;
  end: number;
  text: string;
  kind: 'tag' | 'variation-selector';
}

/** A hidden region of markup, in original offsets. */
export interface HiddenRegion {
  start: number;
  end: number;
  rule: string;
}

const MAX_RUN_FINDINGS = 32;

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isRtlLetter(c: number): boolean {
  return (c >= 0x590 && c <= 0x8ff) || (c >= 0xfb1d && c <= 0xfdff) || (c >= 0xfe70 && c <= 0xfefc);
}

/** Code point just before `pos` (skipping nothing), or -1. */
function cpBefore(text: string, pos: number): number {
  if (pos <= 0) return -1;
  const c = text.charCodeAt(pos - 1);
  if (c >= 0xdc00 && c <= 0xdfff && pos >= 2) return text.codePointAt(pos - 2) ?? c;
  return c;
}

/** Characters a reader does not see. Offsets are original offsets; `text` is the scanned original text. */
export function hiddenCharacters(
  text: string,
  invisibles: readonly Invisible[],
  out: RawFinding[],
  smuggled: Smuggled[],
): void {
  if (invisibles.length === 0) return;
  let hasRtl = false;
  for (let i = 0; i < text.length && i < 65536; i++) {
    if (isRtlLetter(text.charCodeAt(i))) {
      hasRtl = true;
      break;
    }
  }

  // Group invisibles of the same kind into runs of adjacent code points.
  interface Run {
    kind: Invisible['kind'];
    start: number;
    end: number;
    cps: number[];
  }
  const runs: Run[] = [];
  for (const inv of invisibles) {
    const prev = runs[runs.length - 1];
    if (prev !== undefined && prev.kind === inv.kind && prev.end === inv.pos) {
      prev.end = inv.pos + inv.len;
      if (prev.cps.length < 65536) prev.cps.push(inv.cp);
    } else {
      runs.push({ kind: inv.kind, start: inv.pos, end: inv.pos + inv.len, cps: [inv.cp] });
    }
  }

  let splitWords = 0;
  let zeroWidthOther = 0;
  const zwFindings: RawFinding[] = [];
  let findings = 0;
  for (const run of runs) {
    if (findings >= MAX_RUN_FINDINGS) break;
    const before = cpBefore(text, run.start);
    const after = run.end < text.length ? (text.codePointAt(run.end) ?? -1) : -1;
    switch (run.kind) {
      case 'tag': {
        // A flag emoji (black flag + tag letters + cancel tag) is the one legitimate use.
        const last = run.cps[run.cps.length - 1];
        if (before === 0x1f3f4 && last === 0xe007f && run.cps.length <= 8) break;
        let decoded = '';
        for (const cp of run.cps) {
          const a = cp - 0xe0000;
          if (a >= 0x20 && a <= 0x7e) decoded += String.fromCharCode(a);
        }
        out.push({
          family: 'hidden-text',
          rule: 'hidden-text.unicode-tags',
          start: run.start,
          end: run.end,
          score: decoded.length >= 3 ? 0.85 : 0.5,
          message: `Invisible Unicode tag characters${decoded.length > 0 ? ' spell hidden text' : ''}.`,
        });
        findings++;
        if (decoded.length >= 3)
          smuggled.push({ start: run.start, end: run.end, text: decoded, kind: 'tag' });
        break;
      }
      case 'variation-selector': {
        if (run.cps.length < 3) break;
        const bytes: number[] = [];
        for (const cp of run.cps) {
          if (cp >= 0xfe00 && cp <= 0xfe0f) bytes.push(cp - 0xfe00);
          else if (cp >= 0xe0100 && cp <= 0xe01ef) bytes.push(cp - 0xe0100 + 16);
        }
        out.push({
          family: 'hidden-text',
          rule: 'hidden-text.variation-selectors',
          start: run.start,
          end: run.end,
          score: run.cps.length >= 8 ? 0.65 : 0.4,
          message: 'A run of variation selectors can carry hidden bytes.',
        });
        findings++;
        const decoded = Buffer.from(bytes).toString('utf8');
        if (/[a-z]{3}/i.test(decoded))
          smuggled.push({ start: run.start, end: run.end, text: decoded, kind: 'variation-selector' });
        break;
      }
      case 'bidi': {
        const override = run.cps.some((cp) => cp === 0x202e || cp === 0x202d);
        const embedding = run.cps.some(
          (cp) => (cp >= 0x202a && cp <= 0x202c) || (cp >= 0x2066 && cp <= 0x2069),
        );
        if (!override && !embedding) break; // LRM / RLM / ALM marks
        const score = override ? (hasRtl ? 0.3 : 0.55) : hasRtl ? 0 : 0.25;
        if (score === 0) break;
        out.push({
          family: 'hidden-text',
          rule: 'hidden-text.bidi',
          start: run.start,
          end: run.end,
          score,
          message: override
            ? 'A bidi override reorders how the text is displayed.'
            : 'Bidi embedding controls in left-to-right text.',
        });
        findings++;
        break;
      }
      case 'zero-width': {
        const cps = run.cps;
        // Byte-order mark at the start; joiners inside emoji and scripts that need them.
        if (run.start === 0 && cps.length === 1 && cps[0] === 0xfeff) break;
        if (cps.length === 1 && (cps[0] === 0x200d || cps[0] === 0x200c) && (before > 0x7f || after > 0x7f))
          break;
        if (cps.length >= 4) {
          zwFindings.push({
            family: 'hidden-text',
            rule: 'hidden-text.zero-width-run',
            start: run.start,
            end: run.end,
            score: cps.length >= 16 ? 0.7 : 0.55,
            message: 'A run of zero-width characters can encode hidden data.',
          });
        } else if (before >= 0 && after >= 0 && isAsciiLetter(before) && isAsciiLetter(after)) {
          splitWords++;
          zwFindings.push({
            family: 'hidden-text',
            rule: 'hidden-text.zero-width-split',
            start: run.start,
            end: run.end,
            score: 0,
            message: 'Zero-width characters split words (to slip past filters).',
          });
        } else {
          zeroWidthOther++;
        }
        findings++;
        break;
      }
      default:
        break;
    }
  }
  // Splitting one word can be an accident of copy and paste; splitting several is deliberate.
  const splitScore = splitWords >= 3 ? 0.65 : splitWords === 2 ? 0.5 : 0.35;
  for (const f of zwFindings) {
    if (f.rule === 'hidden-text.zero-width-split') f.score = splitScore;
    out.push(f);
  }
  if (zeroWidthOther >= 5) {
    const first = invisibles.find((i) => i.kind === 'zero-width');
    if (first !== undefined) {
      out.push({
        family: 'hidden-text',
        rule: 'hidden-text.zero-width',
        start: first.pos,
        end: first.pos + first.len,
        score: 0.3,
        message: `${zeroWidthOther} scattered zero-width characters.`,
      });
    }
  }
}

const HIDING_CSS =
  /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)|(?:^|;|\s)(?:left|top|text-indent|margin-left)\s*:\s*-\d{3,}|clip\s*:\s*rect\(\s*0|(?:^|[;\s])(?:height|width|max-height)\s*:\s*0(?:px)?\s*(?:;|$)[^]*overflow\s*:\s*hidden|(?:^|[;\s])color\s*:\s*(?:#fff(?:fff)?\b|white\b|transparent\b|rgba\([^)]{0,40},\s*0\s*\))/;
const STYLE_ATTR = /\bstyle\s*=\s*(["'])/g;
const MAX_REGIONS = 256;
const REGION_LIMIT = 4000;

/** Markup a browser hides. Works on the normalised text; returns regions in original offsets. */
export function hiddenMarkup(norm: Normalised, out: RawFinding[], regions: HiddenRegion[]): void {
  const text = norm.lower;
  // HTML comments. One pass: once a comment has no end, nothing after it has one either.
  let from = 0;
  let count = 0;
  while (count < MAX_REGIONS) {
    const open = text.indexOf('<!--', from);
    if (open < 0) break;
    let close = text.indexOf('-->', open + 4);
    const unterminated = close < 0;
    if (unterminated) close = text.length;
    const inner = text.slice(open + 4, Math.min(close, open + 4 + REGION_LIMIT));
    if (/[a-z]{2,}(?:\s+[a-z]{2,}){3}/.test(inner)) {
      const f = fromNorm(
        norm,
        'hidden-text',
        'hidden-text.html-comment',
        open,
        Math.min(text.length, close + 3),
        0.1,
        'Text inside an HTML comment is not shown to readers.',
      );
      out.push(f);
      regions.push({ start: f.start, end: f.end, rule: f.rule });
      count++;
    }
    if (unterminated) break;
    from = close + 3;
  }

  // Elements hidden by inline style.
  STYLE_ATTR.lastIndex = 0;
  let m: RegExpExecArray | null;
  let budget = text.length * 2 + 10_000;
  while ((m = STYLE_ATTR.exec(text)) !== null && count < MAX_REGIONS && budget > 0) {
    const quote = m[1] ?? '"';
    const valueStart = m.index + m[0].length;
    const valueEnd = text.indexOf(quote, valueStart);
    if (valueEnd < 0 || valueEnd - valueStart > 500) continue;
    const css = text.slice(valueStart, valueEnd);
    if (!HIDING_CSS.test(css)) continue;
    const tagOpen = text.lastIndexOf('<', m.index);
    if (tagOpen < 0 || m.index - tagOpen > 500) continue;
    const tag = /^<([a-z][a-z0-9]{0,15})/.exec(text.slice(tagOpen, tagOpen + 20))?.[1];
    if (tag === undefined) continue;
    const tagEnd = text.indexOf('>', valueEnd);
    if (tagEnd < 0 || tagEnd - valueEnd > 500) continue;
    const limit = Math.min(text.length, tagEnd + 1 + REGION_LIMIT);
    let closeAt = text.indexOf(`</${tag}`, tagEnd + 1);
    if (closeAt < 0 || closeAt > limit) closeAt = limit;
    budget -= closeAt - tagOpen;
    const inner = text.slice(tagEnd + 1, closeAt);
    if (!/[a-z]{2,}(?:\s+[a-z]{2,}){2}/.test(inner)) continue;
    const f = fromNorm(
      norm,
      'hidden-text',
      'hidden-text.css-hidden',
      tagOpen,
      closeAt,
      0.15,
      'Text inside an element hidden by CSS is not shown to readers.',
    );
    out.push(f);
    regions.push({ start: f.start, end: f.end, rule: f.rule });
    count++;
    STYLE_ATTR.lastIndex = Math.max(STYLE_ATTR.lastIndex, tagEnd + 1);
  }
}
