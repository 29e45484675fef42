import { WardenError } from '../../core/errors.js';
import { codeCombination, CODE_RULES } from './code-rules.js';
import { decodeCandidates } from './decode.js';
import { runRules, tokensOf, type RawFinding } from './engine.js';
import { hiddenCharacters, hiddenMarkup, type HiddenRegion, type Smuggled } from './hidden.js';
import { homoglyphs } from './homoglyph.js';
import { normalise, type Normalised } from './normalise.js';
import { actionRequests } from './action-request.js';
import { codeInsertion, outputManipulation, requestLines } from './phrasing.js';
import { LEXICAL_RULES } from './rules.js';
import type { InjectionFamily, InjectionFinding, InjectionScan, InjectionScanOptions } from './types.js';

/**
 * Score at or above which content is flagged. Chosen on the tuning split of the evaluation data (see
 * eval/detection.ts): at 0.5 no clean row of the tuning split (BIPIA contexts, AgentDojo tool outputs, NotInject)
 * is flagged; at 0.4 clean e-mails start to be; 0.45 would gain under one point of recall for less margin.
 */
export const DEFAULT_INJECTION_THRESHOLD = 0.5;

/** Code units scanned by default: 256 Ki. Longer input is scanned up to here and reported as truncated. */
export const DEFAULT_MAX_CHARS = 262_144;

/** Findings returned at most; the strongest are kept. */
export const MAX_FINDINGS = 200;

const EXCERPT_LIMIT = 160;

/** Version of the rule set, for reports and caches. Bump when rules or weights change. */
export const INJECTION_RULES_VERSION = '2026.2';

// How much each further rule in a family, and each further family, adds: evidence from one family counts
// fully, corroboration from others adds less than it would if the signals were independent.
const RULE_DAMPING = 0.5;
const FAMILY_DAMPING = 0.6;

/** Combine per-finding scores into per-family scores and a total. */
export function combineScores(
  findings: readonly { family: InjectionFamily; rule: string; score: number }[],
  lower = '',
): { score: number; families: Partial<Record<InjectionFamily, number>> } {
  const perRule = new Map<InjectionFamily, Map<string, number>>();
  for (const f of findings) {
    let rules = perRule.get(f.family);
    if (rules === undefined) {
      rules = new Map();
      perRule.set(f.family, rules);
    }
    rules.set(f.rule, Math.max(rules.get(f.rule) ?? 0, f.score));
  }
  const familyScores: number[] = [];
  const families: Partial<Record<InjectionFamily, number>> = {};
  for (const [family, rules] of perRule) {
    const scores = [...rules.values()].sort((a, b) => b - a);
    let s = 0;
    scores.forEach((v, i) => {
      s = i === 0 ? v : s + (1 - s) * v * RULE_DAMPING;
    });
    if (family === 'malicious-code') s = Math.min(0.95, s + codeCombination(new Set(rules.keys()), lower));
    families[family] = round(s);
    familyScores.push(s);
  }
  familyScores.sort((a, b) => b - a);
  let total = 0;
  familyScores.forEach((v, i) => {
    total = i === 0 ? v : total + (1 - total) * v * FAMILY_DAMPING;
  });
  return { score: round(Math.min(1, Math.max(0, total))), families };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The lexical part of a scan: what runs on decoded and smuggled text too. */
function lexical(norm: Normalised, out: RawFinding[]): void {
  runRules(LEXICAL_RULES, norm, out);
  runRules(CODE_RULES, norm, out);
  outputManipulation(norm, out);
  codeInsertion(norm, out);
  requestLines(norm, out);
  actionRequests(norm, tokensOf(norm), out);
}

/** Score text that came out of a decoder: lexical rules only, no further decoding (one level deep). */
function rescan(text: string): { score: number; top: RawFinding | undefined } {
  const norm = normalise(text);
  const findings: RawFinding[] = [];
  lexical(norm, findings);
  const { score } = combineScores(findings, norm.lower);
  let top: RawFinding | undefined;
  for (const f of findings) if (top === undefined || f.score > top.score) top = f;
  return { score, top };
}

/** Show a span safely: invisible and control characters become `\u{…}`, long spans are shortened. */
export function excerptOf(text: string, start: number, end: number): string {
  const cut = Math.min(end, start + EXCERPT_LIMIT);
  let out = '';
  for (let i = start; i < cut; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < cut) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = (c - 0xd800) * 0x400 + (d - 0xdc00) + 0x10000;
        if ((cp >= 0xe0000 && cp <= 0xe007f) || (cp >= 0xe0100 && cp <= 0xe01ef))
          out += `\\u{${cp.toString(16)}}`;
        else out += text.slice(i, i + 2);
        i++;
        continue;
      }
    }
    const invisible =
      c < 0x20 ||
      c === 0x7f ||
      (c >= 0x80 && c < 0xa0) ||
      c === 0xad ||
      (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2060 && c <= 0x2069) ||
      c === 0xfeff ||
      (c >= 0xfe00 && c <= 0xfe0f) ||
      (c >= 0xd800 && c <= 0xdfff);
    if (c === 0x0a || c === 0x09) out += ' ';
    else if (invisible) out += `\\u{${c.toString(16)}}`;
    else out += text[i] ?? '';
  }
  return cut < end ? `${out}…` : out;
}

function shorten(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n)}…` : flat;
}

function checkOptions(options: InjectionScanOptions): {
  threshold: number;
  maxChars: number;
  decode: boolean;
} {
  const threshold = options.threshold ?? DEFAULT_INJECTION_THRESHOLD;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) {
    throw new WardenError(
      'INVALID_ARGUMENT',
      `injection threshold must be a number in 0..1, got ${String(threshold)}`,
    );
  }
  const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
  if (typeof maxChars !== 'number' || !Number.isInteger(maxChars) || maxChars < 1) {
    throw new WardenError(
      'INVALID_ARGUMENT',
      `injection maxChars must be a positive integer, got ${String(maxChars)}`,
    );
  }
  return { threshold, maxChars, decode: options.decode ?? true };
}

/**
 * Scan Tier 3 content for prompt injection. Pure and synchronous: no network, no model. Time is linear in
 * `min(text.length, maxChars)`; nothing in the input can make it throw. Invalid options are a programming
 * error and throw a `WardenError` with code `INVALID_ARGUMENT`.
 *
 * Input that is not a string (a caller bypassing the types) fails closed: score 1, flagged, with a note.
 */
export function scanForInjection(text: string, options: InjectionScanOptions = {}): InjectionScan {
  const { threshold, maxChars, decode } = checkOptions(options);
  const notes: string[] = [];
  if (typeof text !== 'string') {
    return {
      score: 1,
      flagged: true,
      threshold,
      findings: [],
      families: {},
      inputLength: 0,
      scannedLength: 0,
      truncated: false,
      notes: [`input is not a string (${typeof text}); failing closed`],
    };
  }

  const inputLength = text.length;
  let scanned = text;
  if (inputLength > maxChars) {
    let cut = maxChars;
    // Do not split a surrogate pair at the cut.
    const c = text.charCodeAt(cut - 1);
    if (c >= 0xd800 && c <= 0xdbff) cut--;
    scanned = text.slice(0, cut);
    notes.push(`input is ${inputLength} code units; only the first ${cut} were scanned`);
  }

  const norm = normalise(scanned);
  if (norm.loneSurrogates > 0)
    notes.push(`${norm.loneSurrogates} lone surrogate(s) (invalid UTF-16) were ignored for matching`);

  const raw: RawFinding[] = [];
  lexical(norm, raw);

  const smuggled: Smuggled[] = [];
  hiddenCharacters(scanned, norm.invisibles, raw, smuggled);
  const regions: HiddenRegion[] = [];
  hiddenMarkup(norm, raw, regions);
  if (norm.nonAsciiLetters) homoglyphs(scanned, raw);

  for (const s of smuggled) {
    const inner = rescan(s.text);
    if (inner.score >= 0.3) {
      raw.push({
        family: 'hidden-text',
        rule: 'hidden-text.smuggled-instructions',
        start: s.start,
        end: s.end,
        score: Math.min(1, inner.score + 0.15),
        message: `Invisible ${s.kind === 'tag' ? 'tag characters' : 'variation selectors'} carry instructions: "${shorten(s.text, 80)}"`,
      });
    }
  }

  if (decode) {
    const { decoded, exhausted } = decodeCandidates(norm);
    if (exhausted) notes.push('decode budget exhausted; some encoded candidates were not decoded');
    for (const d of decoded) {
      const inner = rescan(d.text);
      if (inner.score < 0.3) continue;
      raw.push({
        family: 'encoding',
        rule: `encoding.${d.kind}`,
        start: d.start,
        end: d.end,
        score: Math.min(1, inner.score + 0.15),
        message: `${d.kind} text decodes to instructions: "${shorten(d.text, 80)}"${inner.top === undefined ? '' : ` (${inner.top.rule})`}`,
      });
    }
  }

  // Instructions inside hidden markup: the hiding is the tell.
  if (regions.length > 0) {
    for (const region of regions) {
      let inner = 0;
      for (const f of raw) {
        if (f.family === 'hidden-text' || f.start < region.start || f.end > region.end) continue;
        inner = Math.max(inner, f.score);
        f.score = Math.min(1, f.score + 0.15);
      }
      if (inner >= 0.3) {
        const rf = raw.find(
          (f) => f.rule === region.rule && f.start === region.start && f.end === region.end,
        );
        if (rf !== undefined) {
          rf.score = Math.max(rf.score, Math.min(0.95, 0.35 + 0.6 * inner));
          rf.message = `${rf.message} It contains instructions.`;
        }
      }
    }
  }

  const allowed = options.families === undefined ? undefined : new Set(options.families);
  const kept = dedupe(allowed === undefined ? raw : raw.filter((f) => allowed.has(f.family)));
  const { score, families } = combineScores(kept, norm.lower);

  kept.sort((a, b) => b.score - a.score || a.start - b.start);
  const limited = kept.slice(0, MAX_FINDINGS);
  if (kept.length > MAX_FINDINGS) notes.push(`${kept.length - MAX_FINDINGS} weaker findings were left out`);
  limited.sort((a, b) => a.start - b.start || b.score - a.score);
  const findings: InjectionFinding[] = limited.map((f) => ({
    family: f.family,
    rule: f.rule,
    start: f.start,
    end: f.end,
    score: round(f.score),
    message: f.message,
    excerpt: excerptOf(scanned, f.start, f.end),
  }));

  return {
    score,
    flagged: score >= threshold,
    threshold,
    findings,
    families,
    inputLength,
    scannedLength: scanned.length,
    truncated: scanned.length < inputLength,
    notes,
  };
}

/** Drop a finding when the same rule already covers an overlapping span with at least its score. */
function dedupe(findings: RawFinding[]): RawFinding[] {
  const sorted = [...findings].sort(
    (a, b) => a.rule.localeCompare(b.rule) || a.start - b.start || b.score - a.score,
  );
  const out: RawFinding[] = [];
  let prev: RawFinding | undefined;
  for (const f of sorted) {
    if (prev !== undefined && prev.rule === f.rule && f.start < prev.end) {
      if (f.score > prev.score) prev.score = f.score;
      if (f.end > prev.end) prev.end = f.end;
      continue;
    }
    out.push(f);
    prev = f;
  }
  return out;
}
