/**
 * Tool-poisoning scan of one MCP tool definition (OWASP ASI04). Pure: no I/O, bounded work on any input.
 * The scanner reads everything the model will read (name, title, description, every string in the input and
 * output schemas and annotations) and reports planted instructions, invisible characters, references to
 * other tools, out-of-scope parameters, preference manipulation, suspicious schema shapes and, given the tools
 * the gateway already knows, name collisions and copies.
 */
import { nameForms } from './names.js';
import { checkParameters } from './parameters.js';
import { walkSchema, type SchemaString } from './schema-walk.js';
import { knownToolFindings } from './shadowing.js';
import { applyTextRules, rank } from './text-rules.js';
import type { Finding, FindingKind, ScanContext, ScanResult, Severity, ToolDefinition } from './types.js';
import { findHiddenCharacters, foldForMatching, visible } from './unicode.js';

/** A result at or above this score is flagged. One high finding, or medium findings of two kinds, reach it. */
export const FLAG_THRESHOLD = 0.5;

/** How much one finding of each severity contributes to the score. */
export const SEVERITY_WEIGHT: Readonly<Record<Severity, number>> = {
  low: 0.1,
  medium: 0.3,
  high: 0.6,
  critical: 0.9,
};

/** Descriptions longer than this are more than a reviewer reads (medium); longer than `HUGE`, flagged. */
const LONG_DESCRIPTION = 8_192;
const HUGE_DESCRIPTION = 65_536;
const LONG_PARAMETER_DESCRIPTION = 2_048;
/** Per string, rules read the head and the tail; across a definition, at most `TEXT_BUDGET` characters. */
const SCAN_HEAD = 49_152;
const SCAN_TAIL = 16_384;
const TEXT_BUDGET = 524_288;
const MAX_FINDINGS = 100;

const DESTRUCTIVE_WORDS = new Set([
  'delete',
  'remove',
  'drop',
  'destroy',
  'wipe',
  'purge',
  'kill',
  'overwrite',
  'format',
  'truncate',
  'erase',
]);
const MUTATING_WORDS = new Set([
  ...DESTRUCTIVE_WORDS,
  'write',
  'send',
  'execute',
  'exec',
  'run',
  'transfer',
  'pay',
  'update',
  'create',
  'move',
  'rename',
  'push',
  'post',
  'publish',
  'deploy',
  'install',
  'uninstall',
  'revoke',
  'set',
  'insert',
  'upload',
  'commit',
  'merge',
  'edit',
]);
const URL = /\b(?:https?|ftp|wss?):\/\/([^\s/"'<>?#]{1,253})[^\s"'<>]{0,300}/i;
const LOCAL_HOST = /^(?:localhost|127\.\d+\.\d+\.\d+|\[::1\]|0\.0\.0\.0)(?::\d+)?$/i;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Score from findings: the most severe finding of each kind counts once; kinds compound. */
export function scoreFindings(findings: readonly Finding[]): number {
  const worst = new Map<FindingKind, Severity>();
  for (const f of findings) {
    const prev = worst.get(f.kind);
    if (prev === undefined || rank(f.severity) > rank(prev)) worst.set(f.kind, f.severity);
  }
  let keep = 1;
  for (const s of worst.values()) keep *= 1 - SEVERITY_WEIGHT[s];
  return Math.round((1 - keep) * 1000) / 1000;
}

/** The part of a long string the rules read. */
function scanWindow(text: string): string {
  return text.length <= SCAN_HEAD + SCAN_TAIL
    ? text
    : text.slice(0, SCAN_HEAD) + '\n' + text.slice(-SCAN_TAIL);
}

function excerpt(text: string, index: number, length: number): string {
  const start = Math.max(0, index - 40);
  const end = Math.min(text.length, index + length + 40);
  return (start > 0 ? '...' : '') + visible(text.slice(start, end), 200) + (end < text.length ? '...' : '');
}

/**
 * Scan one tool definition. `context.knownTools` (the tools the gateway already knows, on any server) enables
 * the collision checks; without it only the definition itself is judged.
 */
export function scanToolDefinition(def: ToolDefinition, context: ScanContext = {}): ScanResult {
  const findings: Finding[] = [];
  const push = (f: Finding): void => {
    if (findings.length < MAX_FINDINGS) findings.push(f);
  };
  try {
    scanInto(def, context, push);
  } catch (err) {
    // Fail closed: a definition the scanner cannot read is not one the gateway should expose.
    push({
      kind: 'suspicious-schema',
      severity: 'high',
      rule: 'scan-failed',
      message: 'The definition could not be scanned; treat it as unreviewed.',
      evidence: visible(err instanceof Error ? err.message : String(err), 160),
      location: '',
    });
  }
  findings.sort((a, b) => rank(b.severity) - rank(a.severity));
  const score = scoreFindings(findings);
  return { score, flagged: score >= FLAG_THRESHOLD, findings };
}

function scanInto(def: ToolDefinition, context: ScanContext, push: (f: Finding) => void): void {
  const raw: unknown = def;
  if (!isRecord(raw)) {
    push({
      kind: 'suspicious-schema',
      severity: 'high',
      rule: 'malformed-definition',
      message: 'The tool definition is not an object.',
      evidence: visible(String(raw), 80),
      location: '',
    });
    return;
  }
  const name = typeof raw['name'] === 'string' ? raw['name'] : '';
  if (name.length === 0 || name.length > 256) {
    push({
      kind: 'suspicious-schema',
      severity: 'high',
      rule: 'malformed-name',
      message: name.length === 0 ? 'The tool has no usable name.' : 'The tool name is implausibly long.',
      evidence: visible(name, 80),
      location: 'name',
    });
  }
  const description = raw['description'];
  if (description !== undefined && typeof description !== 'string') {
    push({
      kind: 'suspicious-schema',
      severity: 'high',
      rule: 'malformed-description',
      message: 'The description is not a string.',
      evidence: typeof description,
      location: 'description',
    });
  }
  const desc = typeof description === 'string' ? description : '';
  const title = typeof raw['title'] === 'string' ? raw['title'] : undefined;

  // Everything the model reads, as (location, role, text).
  const strings: SchemaString[] = [];
  if (desc.length > 0) strings.push({ path: 'description', role: 'text', value: desc });
  if (title !== undefined) strings.push({ path: 'title', role: 'text', value: title });
  const input = walkSchema(raw['inputSchema'], 'inputSchema');
  const output = walkSchema(raw['outputSchema'], 'outputSchema');
  const annotations = walkSchema(raw['annotations'], 'annotations');
  for (const w of [input, output, annotations]) strings.push(...w.strings);

  const topic = purposeOf(name, title, desc);
  checkName(name, push);
  checkHidden(
    strings,
    input.properties.map((p) => ({ path: p.path, value: p.name })),
    push,
  );
  checkText(name, topic, strings, push);
  checkShape(raw, desc, input, output, annotations, name, push);

  for (const f of checkParameters(input.properties, topic)) push(f);

  if (context.knownTools !== undefined && context.knownTools.length > 0 && name.length > 0) {
    for (const f of knownToolFindings({ name, description: desc }, context.server, context.knownTools))
      push(f);
  }
}

/**
 * What the tool is for, as its author states it up front: the name, the title and the first sentence of the
 * description. Used to decide whether a parameter or a request is in scope. Planted text further down the
 * description must not be able to put itself in scope, hence only the first sentence.
 */
export function purposeOf(name: string, title: string | undefined, description: string): string {
  const head = description.slice(0, 400);
  const cut = head.search(/[.!?](?:\s|$)|\n/);
  const first = cut < 0 ? head : head.slice(0, cut);
  return foldForMatching(
    [name.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2'), title ?? '', first].join('\n'),
  ).toLowerCase();
}

function checkName(name: string, push: (f: Finding) => void): void {
  if (name.length === 0) return;
  // A name mixing Latin with letters drawn like Latin ones exists to be mistaken for another name.
  const forms = nameForms(name);
  if (/[a-z]/i.test(name) && /[\u0080-\u{10FFFF}]/u.test(name) && /^[a-z0-9]+$/.test(forms.skeleton)) {
    push({
      kind: 'hidden-characters',
      severity: 'high',
      rule: 'lookalike-name',
      message: `The name mixes Latin letters with look-alike letters from other scripts (reads as "${forms.skeleton}").`,
      evidence: visible(name, 80),
      location: 'name',
    });
  }
  for (const hit of findHiddenCharacters(name)) {
    push({
      kind: 'hidden-characters',
      severity: hit.severity === 'low' ? 'medium' : hit.severity,
      rule: `${hit.rule}-in-name`,
      message: `The name contains invisible code points (${hit.rule}).`,
      evidence: `${hit.count} x ${hit.sample}`,
      location: 'name',
    });
  }
}

function checkHidden(
  strings: SchemaString[],
  keys: { path: string; value: string }[],
  push: (f: Finding) => void,
): void {
  const all = [
    ...strings.map((s) => ({ path: s.path, value: s.value })),
    ...keys.map((k) => ({ path: `${k.path} (name)`, value: k.value })),
  ];
  for (const s of all) {
    for (const hit of findHiddenCharacters(s.value)) {
      push({
        kind: 'hidden-characters',
        severity: hit.severity,
        rule: hit.rule,
        message:
          hit.rule === 'unicode-tags'
            ? 'Contains invisible Unicode tag characters that spell out hidden text.'
            : `Contains invisible or deceptive code points (${hit.rule}).`,
        evidence:
          hit.decoded !== undefined && hit.decoded.length > 0
            ? `decoded: "${visible(hit.decoded, 140)}"`
            : `${hit.count} x ${hit.sample}`,
        location: s.path,
      });
    }
  }
}

function checkText(name: string, topic: string, strings: SchemaString[], push: (f: Finding) => void): void {
  let budget = TEXT_BUDGET;
  let skipped = 0;
  for (const s of strings) {
    if (budget <= 0) {
      skipped++;
      continue;
    }
    const windowed = scanWindow(s.value);
    const text = foldForMatching(windowed.length > budget ? windowed.slice(0, budget) : windowed);
    budget -= text.length;
    for (const hit of applyTextRules(text, { toolName: name, topic })) {
      push({
        kind: hit.rule.kind,
        severity: hit.severity,
        rule: hit.rule.id,
        message: hit.rule.message,
        evidence: excerpt(text, hit.index, hit.match.length),
        location: s.path,
      });
    }
  }
  if (skipped > 0) {
    push({
      kind: 'suspicious-schema',
      severity: 'medium',
      rule: 'text-budget-exceeded',
      message: `The definition carries more text than the scanner reads; ${skipped} string(s) were not inspected.`,
      evidence: `${strings.length} strings`,
      location: '',
    });
  }
}

function checkShape(
  raw: Record<string, unknown>,
  desc: string,
  input: ReturnType<typeof walkSchema>,
  output: ReturnType<typeof walkSchema>,
  annotations: ReturnType<typeof walkSchema>,
  name: string,
  push: (f: Finding) => void,
): void {
  if (desc.length > LONG_DESCRIPTION) {
    const huge = desc.length > HUGE_DESCRIPTION;
    push({
      kind: 'suspicious-schema',
      severity: huge ? 'high' : 'medium',
      rule: huge ? 'huge-description' : 'long-description',
      message: huge
        ? `The description is ${desc.length} characters: far more than a tool needs, and more than the scanner reads in full.`
        : `The description is ${desc.length} characters, more than a reviewer is likely to read.`,
      evidence: visible(desc, 80),
      location: 'description',
    });
  }
  for (const p of input.properties) {
    if (p.description !== undefined && p.description.length > LONG_PARAMETER_DESCRIPTION) {
      push({
        kind: 'suspicious-schema',
        severity: 'medium',
        rule: 'long-parameter-description',
        message: `The description of parameter "${p.name}" is ${p.description.length} characters.`,
        evidence: visible(p.description, 80),
        location: p.path,
      });
    }
  }
  for (const [key, w] of [
    ['inputSchema', input],
    ['outputSchema', output],
    ['annotations', annotations],
  ] as const) {
    if (w.truncated !== undefined) {
      push({
        kind: 'suspicious-schema',
        severity: 'medium',
        rule: 'schema-too-complex',
        message: `The ${key} is too ${w.truncated === 'depth' ? 'deeply nested' : 'large'} to inspect fully (${w.nodes} nodes, depth ${w.maxDepthSeen}).`,
        evidence: w.truncated,
        location: key,
      });
    }
  }
  const schema = raw['inputSchema'];
  if (schema !== undefined && !isRecord(schema)) {
    push({
      kind: 'suspicious-schema',
      severity: 'medium',
      rule: 'malformed-schema',
      message: 'The input schema is not a JSON object.',
      evidence: typeof schema,
      location: 'inputSchema',
    });
  }
  for (const s of [...input.strings, ...output.strings]) {
    if (s.role !== 'value') continue;
    const m = URL.exec(s.value);
    if (m === null || LOCAL_HOST.test(m[1] ?? '')) continue;
    push({
      kind: 'suspicious-schema',
      severity: 'medium',
      rule: 'external-url-value',
      message:
        'A default, example, enum or const value points to an external address the model may send data to.',
      evidence: visible(m[0], 160),
      location: s.path,
    });
  }
  const ann = raw['annotations'];
  if (isRecord(ann) && name.length > 0) {
    const words = new Set(nameForms(name).singular);
    const destructive = [...words].some((w) => DESTRUCTIVE_WORDS.has(w));
    const mutating = [...words].some((w) => MUTATING_WORDS.has(w));
    if ((ann['readOnlyHint'] === true && mutating) || (ann['destructiveHint'] === false && destructive)) {
      push({
        kind: 'suspicious-schema',
        severity: 'medium',
        rule: 'annotation-contradiction',
        message: `Annotations call the tool ${ann['readOnlyHint'] === true ? 'read-only' : 'non-destructive'}, but its name says otherwise.`,
        evidence: visible(
          JSON.stringify({ readOnlyHint: ann['readOnlyHint'], destructiveHint: ann['destructiveHint'] }),
          120,
        ),
        location: 'annotations',
      });
    }
  }
}
