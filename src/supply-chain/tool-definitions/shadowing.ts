/**
 * Shadowing: one tool passing itself off as, or interfering with, another. A model picks tools by name and
 * description, so a second server offering `send_emaiI`, `send_email_v2` or a copy of `send_email`'s text
 * under another name can capture calls meant for the original; a description that names another server's
 * tool can change how that tool is used. The same rules serve the per-tool scan (against known tools) and
 * the all-pairs report.
 */
import {
  descriptionShingles,
  descriptionWords,
  isDescriptionCopy,
  nameForms,
  relateNames,
  type NameForms,
  type NameRelation,
} from './names.js';
import { isIdentifierLike, rank } from './text-rules.js';
import type { Finding, KnownTool, ServerTool, Severity } from './types.js';
import { foldForMatching, visible } from './unicode.js';

/** One tool prepared for comparisons. */
interface Side {
  server: string;
  name: string;
  description: string;
  forms: NameForms;
  words: string[];
  shingles: Set<string>;
}

/**
 * Prepared forms of known tools, by object identity, so scanning a server's tools against the same inventory
 * prepares each known tool once. A hit is only used if the entry still has the same server, name and text.
 */
const preparedKnown = new WeakMap<KnownTool, Side>();

function prepareKnown(k: KnownTool): Side {
  const cached = preparedKnown.get(k);
  const description = typeof k.description === 'string' ? k.description : '';
  if (
    cached !== undefined &&
    cached.server === k.server &&
    cached.name === k.name &&
    cached.description === description
  )
    return cached;
  const side = prepare(k.server, k.name, k.description);
  preparedKnown.set(k, side);
  return side;
}

function prepare(server: string, name: string, description: string | undefined): Side {
  const text = typeof description === 'string' ? description : '';
  const words = descriptionWords(text);
  return {
    server,
    name,
    description: text,
    forms: nameForms(name),
    words,
    shingles: descriptionShingles(words),
  };
}

const LEET: Record<string, string> = {
  '0': 'o',
  '1': 'l',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
};

/** Same length and equal except where one has a digit the other spells as a letter (`emai1` / `email`). */
function leetEqual(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    if (x === y) continue;
    if (LEET[x] === y || LEET[y] === x || (LEET[x] === 'l' && y === 'i') || (LEET[y] === 'l' && x === 'i'))
      continue;
    return false;
  }
  return true;
}

/** What a pair means from the first tool's side. */
export interface PairAssessment {
  severity: Severity;
  rule: string;
  relation: NameRelation | 'leet';
  copy: boolean;
  message: string;
}

type Cell = Severity | null;
/**
 * Severity by relation: [different servers, same server, different servers with a copied description, same
 * server with a copied description]. Shadowing is a cross-server attack: a server gains nothing by imitating
 * its own tools, and real servers do offer variants (`list_directory`, `list_directory_with_sizes`), so
 * same-server pairs stay low. Tools a pinned server adds later are the pin check's business.
 * Where the relation has a direction, the tool that adds to the other's name is taken for the imitator.
 */
const MATRIX: Record<Exclude<NameRelation, 'same' | 'confusable'>, [Cell, Cell, Cell, Cell]> = {
  decorated: ['high', 'low', 'high', 'low'],
  undecorated: [null, null, 'low', null],
  'plural-longer': ['medium', 'low', 'high', 'low'],
  'plural-shorter': ['low', null, 'medium', null],
  'typo-longer': ['high', 'low', 'high', 'low'],
  'typo-shorter': ['medium', null, 'medium', 'low'],
  typo: ['medium', 'low', 'high', 'low'],
  extended: [null, null, 'high', 'low'],
  contracted: [null, null, 'medium', 'low'],
  substituted: [null, null, 'medium', 'low'],
  none: [null, null, 'medium', null],
};

const EXPLAIN: Record<Exclude<NameRelation, 'same'> | 'leet', string> = {
  confusable: 'the same name apart from case, separators or look-alike letters',
  leet: 'the same name with digits standing in for letters',
  decorated: 'the other name with impersonation words added (version marks, articles, "official", ...)',
  undecorated: 'the other tool imitates this name by adding impersonation words',
  'plural-longer': 'the other name in the plural',
  'plural-shorter': 'the other name in the singular',
  'typo-longer': 'the other name with one character added',
  'typo-shorter': 'the other name with one character dropped',
  typo: 'the other name with one character changed',
  extended: 'the other name with words added',
  contracted: 'the other name with words dropped',
  substituted: 'the other name with one word swapped',
  none: 'an unrelated name',
};

/** How tool `a` stands towards tool `b` (null: nothing to report). */
export function assessPair(a: Side, b: Side, crossServer: boolean): PairAssessment | null {
  const copy = isDescriptionCopy(a.words, a.shingles, b.words, b.shingles);
  const pair = `"${a.name}" vs "${b.name}" (server "${b.server}")`;
  const relation = relateNames(a.forms, b.forms);
  if (relation === 'same') {
    if (!crossServer) return null;
    const identical = a.description === b.description;
    return identical
      ? {
          severity: 'low',
          rule: 'duplicate-tool',
          relation,
          copy,
          message: `The same tool is also offered by server "${b.server}".`,
        }
      : {
          severity: 'medium',
          rule: 'name-collision-exact',
          relation,
          copy,
          message: `Server "${b.server}" offers a different tool under the same name; calls may reach either.`,
        };
  }
  const leet = (relation === 'none' || relation === 'typo') && leetEqual(a.forms.skeleton, b.forms.skeleton);
  if (relation === 'confusable' || leet) {
    const rel = leet ? 'leet' : 'confusable';
    return {
      severity: crossServer ? 'high' : 'medium',
      rule: 'name-confusable',
      relation: rel,
      copy,
      message: `${pair}: ${EXPLAIN[rel]}; a model cannot tell them apart.`,
    };
  }
  const [cross, same, copiedCross, copiedSame] = MATRIX[relation];
  // Names too short to be distinctive collide by accident unless the text is copied too.
  const distinctive = b.forms.core.length >= 2 || b.forms.skeleton.length >= 8;
  let severity: Cell = copy ? (crossServer ? copiedCross : copiedSame) : crossServer ? cross : same;
  if (!copy && !distinctive) severity = null;
  if (relation === 'none' && copy && Math.min(a.words.length, b.words.length) < 6) severity = null;
  if (severity === null) return null;
  const copyNote = copy ? ', and one description is a copy of the other' : '';
  return {
    severity,
    rule: copy ? 'description-copy' : `name-${relation}`,
    relation,
    copy,
    message: `${pair}: ${EXPLAIN[relation]}${copyNote}.`,
  };
}

/** At most this many collision findings are kept per scanned tool (the most severe). */
const MAX_COLLISIONS = 8;
const DIRECTIVE =
  /\b(?:when|whenever|also|instead|before|after|always|never|must|do\s*n[o']?t|bcc|cc|first|replace|override|ignore)\b/i;

function dedupeKnown(known: KnownTool[]): KnownTool[] {
  const seen = new Set<string>();
  const out: KnownTool[] = [];
  for (const k of known) {
    if (typeof k?.server !== 'string' || typeof k.name !== 'string') continue;
    const key = `${k.server}\u0000${k.name}\u0000${typeof k.description === 'string' ? k.description : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(k);
  }
  return out;
}

/**
 * Findings for a definition compared with the tools the gateway already knows: name collisions and
 * imitations, copied descriptions, and mentions of other servers' tools in its text. A known tool with the
 * same server and name is the same tool and is skipped. Without a server, every known tool counts as foreign.
 */
export function knownToolFindings(
  def: { name: string; description?: string },
  server: string | undefined,
  knownTools: KnownTool[],
): Finding[] {
  const me = prepare(server ?? '', def.name, def.description);
  const collisions: Finding[] = [];
  const known = dedupeKnown(knownTools);
  for (const k of known) {
    const crossServer = server === undefined || k.server !== server;
    if (!crossServer && k.name === def.name) continue;
    const a = assessPair(me, prepareKnown(k), crossServer);
    if (a === null) continue;
    collisions.push({
      kind: 'name-collision',
      severity: a.severity,
      rule: a.rule,
      message: a.message,
      evidence: `${visible(def.name, 80)} ~ ${visible(k.name, 80)} (${k.server})`,
      location: a.copy ? 'description' : 'name',
      related: { server: k.server, name: k.name },
    });
  }
  collisions.sort((x, y) => rank(y.severity) - rank(x.severity));
  const findings = collisions.slice(0, MAX_COLLISIONS);
  findings.push(...mentionFindings(me, server, known));
  return findings;
}

/** Identifiers in a text, capped, for mention look-ups. */
function identifiers(text: string): { word: string; index: number }[] {
  const out: { word: string; index: number }[] = [];
  const re = /[A-Za-z_][\w.-]{2,80}/g;
  for (let m = re.exec(text); m !== null && out.length < 5_000; m = re.exec(text)) {
    out.push({ word: m[0].replace(/[.-]+$/, ''), index: m.index });
  }
  return out;
}

function sentenceOf(text: string, index: number): string {
  const start = Math.max(text.lastIndexOf('.', index), text.lastIndexOf('\n', index), index - 300, 0);
  let end = text.slice(index).search(/[.\n]/);
  end = end < 0 || end > 300 ? Math.min(text.length, index + 300) : index + end;
  return text.slice(start, end);
}

function mentionFindings(me: Side, server: string | undefined, known: KnownTool[]): Finding[] {
  if (me.description.length === 0) return [];
  const byName = new Map<string, KnownTool[]>();
  for (const k of known) {
    if (server !== undefined && k.server === server) continue;
    if (k.name === me.name || !(isIdentifierLike(k.name) || k.name.length >= 10)) continue;
    const key = k.name.toLowerCase();
    const list = byName.get(key) ?? [];
    list.push(k);
    byName.set(key, list);
  }
  if (byName.size === 0) return [];
  const text = foldForMatching(
    me.description.length > 262_144 ? me.description.slice(0, 262_144) : me.description,
  );
  let best: Finding | undefined;
  for (const { word, index } of identifiers(text)) {
    const hits = byName.get(word.toLowerCase());
    if (hits === undefined) continue;
    const target = hits[0];
    if (target === undefined) continue;
    const sentence = sentenceOf(text, index);
    const severity: Severity = DIRECTIVE.test(sentence) ? 'high' : 'medium';
    if (best === undefined || rank(severity) > rank(best.severity)) {
      best = {
        kind: 'cross-tool-reference',
        severity,
        rule: 'mentions-foreign-tool',
        message: `The description names "${target.name}", a tool of server "${target.server}".`,
        evidence: visible(sentence.trim(), 160),
        location: 'description',
        related: { server: target.server, name: target.name },
      };
      if (severity === 'high') break;
    }
  }
  return best === undefined ? [] : [best];
}

/** One shadowing problem between two tools on different servers. */
export interface ShadowingIssue {
  /** `collision`: names collide or imitate; `copy`: a description is copied; `mention`: a description names the other tool. */
  kind: 'collision' | 'copy' | 'mention';
  severity: Severity;
  rule: string;
  /** The tool the issue is about (the imitator, or the one whose description does the naming). */
  server: string;
  tool: string;
  /** The other tool. */
  otherServer: string;
  otherTool: string;
  message: string;
}

/**
 * Every shadowing problem among tools of different servers: exact and near name collisions (case,
 * separators, look-alikes, one edit on names of six characters or more, impersonation words), copied
 * descriptions under related names, and descriptions that name another server's tool. Symmetric problems are
 * reported once per pair; directed ones (an imitation, a mention) name the tool responsible.
 */
export function detectShadowing(all: ServerTool[]): ShadowingIssue[] {
  const sides: Side[] = [];
  for (const t of all) {
    if (typeof t?.server !== 'string' || typeof t.def?.name !== 'string') continue;
    sides.push(prepare(t.server, t.def.name, t.def.description));
  }
  const issues: ShadowingIssue[] = [];
  const reported = new Set<string>();
  const pairs = candidatePairs(sides);
  for (const [i, j] of pairs) {
    const a = sides[i];
    const b = sides[j];
    if (a === undefined || b === undefined || a.server === b.server) continue;
    const ab = assessPair(a, b, true);
    const ba = assessPair(b, a, true);
    for (const [x, y, r] of [
      [a, b, ab],
      [b, a, ba],
    ] as const) {
      if (r === null || r.severity === 'low') continue;
      const symmetric =
        r.relation === 'same' ||
        r.relation === 'confusable' ||
        r.relation === 'leet' ||
        r.relation === 'typo';
      const key = symmetric
        ? [`${x.server}/${x.name}`, `${y.server}/${y.name}`].sort().join('|') + r.rule
        : `${x.server}/${x.name}|${y.server}/${y.name}|${r.rule}`;
      if (reported.has(key)) continue;
      reported.add(key);
      issues.push({
        kind: r.copy && r.relation !== 'same' ? 'copy' : 'collision',
        severity: r.severity,
        rule: r.rule,
        server: x.server,
        tool: x.name,
        otherServer: y.server,
        otherTool: y.name,
        message: r.message,
      });
    }
  }
  // Mentions: each tool's description against every other server's tool names.
  const known: KnownTool[] = sides.map((s) => ({ server: s.server, name: s.name }));
  for (const s of sides) {
    for (const f of mentionFindings(s, s.server, known)) {
      if (f.related === undefined || f.severity === 'low') continue;
      issues.push({
        kind: 'mention',
        severity: f.severity,
        rule: f.rule,
        server: s.server,
        tool: s.name,
        otherServer: f.related.server,
        otherTool: f.related.name,
        message: f.message,
      });
    }
  }
  issues.sort((x, y) => rank(y.severity) - rank(x.severity));
  return issues;
}

/** Buckets with more members than this are ignored when pairing: they hold common words, not collisions. */
const MAX_BUCKET = 200;

function leetFold(skeleton: string): string {
  let out = '';
  for (const ch of skeleton) out += LEET[ch] ?? (ch === 'i' ? 'l' : ch);
  return out;
}

/**
 * Index pairs worth comparing, found through shared keys instead of comparing every pair: the skeleton, the
 * core words, the look-alike-folded skeleton, every one-character deletion of the skeleton (two names one
 * edit apart always share one), and shared description word pairs (for copies).
 */
function candidatePairs(sides: Side[]): [number, number][] {
  const buckets = new Map<string, number[]>();
  const add = (key: string, i: number): void => {
    const list = buckets.get(key);
    if (list === undefined) buckets.set(key, [i]);
    else if (list[list.length - 1] !== i) list.push(i);
  };
  sides.forEach((s, i) => {
    const sk = s.forms.skeleton;
    add(`s:${sk}`, i);
    add(`c:${s.forms.core.join(' ')}`, i);
    add(`l:${leetFold(sk)}`, i);
    if (sk.length >= 5 && sk.length <= 64) {
      add(`d:${sk}`, i);
      for (let k = 0; k < sk.length; k++) add(`d:${sk.slice(0, k)}${sk.slice(k + 1)}`, i);
    }
    for (const sh of s.shingles) add(`w:${sh}`, i);
  });
  const seen = new Set<string>();
  const out: [number, number][] = [];
  for (const list of buckets.values()) {
    if (list.length < 2 || list.length > MAX_BUCKET) continue;
    for (let x = 0; x < list.length; x++) {
      for (let y = x + 1; y < list.length; y++) {
        const i = list[x] ?? 0;
        const j = list[y] ?? 0;
        if (sides[i]?.server === sides[j]?.server) continue;
        const pair = i < j ? `${i},${j}` : `${j},${i}`;
        if (seen.has(pair)) continue;
        seen.add(pair);
        out.push(i < j ? [i, j] : [j, i]);
      }
    }
  }
  return out;
}
