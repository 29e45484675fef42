/**
 * Poisoning detection on MCP Security Bench tool definitions (`msb/tool-definitions.json`).
 *
 * Rows are split by a hash of their text (≈30% tuning, ≈70% reported); only the reported split is quoted.
 * Every row is scanned three ways:
 * - `definition`: the definition alone;
 * - `context` (the headline): with every tool of the data set as `knownTools`, grouped per server as the data
 *   has it: the clean server, and each attack variant of it as a server of its own (MSB runs an attack as a
 *   server beside the benign ones). Variant servers get opaque names, so nothing about the label leaks;
 * - `context-same-server`: the same list under the data's bare `server` field, i.e. as if the attack tools had
 *   been added to the clean server itself. Shadowing is a cross-server check, so this mode shows what is left
 *   when the impostor lives on the victim's own server (a case for pinning: `comparePins` reports it as added).
 * Name-overlap and tool-transfer attacks copy a clean tool under a new name; they are only visible in context.
 * The context is symmetric: a clean tool sees its attacked copies too, which costs false positives that a
 * gateway scanning new servers against already-pinned ones would not have.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanToolDefinition } from '../src/supply-chain/tool-definitions/index.js';
import type { KnownTool, ScanResult, ToolDefinition } from '../src/supply-chain/tool-definitions/index.js';

/** One row of the data set as published. */
export interface MsbToolRow {
  server: string;
  attack: string | null;
  label: 0 | 1;
  name: string;
  description: string;
  parameters: { name: string; type: string }[];
}

/** Which split a row is in. */
export type EvalSplit = 'tuning' | 'reported';

/** Rows whose sha256(name + "\n" + description) starts with a byte below this are tuning rows (77/256 ≈ 30%). */
export const TOOL_DEFINITION_TUNING_BYTE_LIMIT = 77;

/** The split of a row: sha256 of its name and description, so identical texts always share a split. */
export function toolDefinitionSplit(row: { name: string; description: string }): EvalSplit {
  const first = createHash('sha256').update(`${row.name}\n${row.description}`, 'utf8').digest()[0] ?? 0;
  return first < TOOL_DEFINITION_TUNING_BYTE_LIMIT ? 'tuning' : 'reported';
}

const JSON_TYPES: Record<string, string> = {
  str: 'string',
  int: 'integer',
  float: 'number',
  bool: 'boolean',
  list: 'array',
  dict: 'object',
};

/**
 * The definition an MCP client would see for a row: the docstring as description and an input schema built
 * from the Python signature (FastMCP does not copy docstring argument text into the schema).
 */
export function msbRowToDefinition(row: MsbToolRow): ToolDefinition {
  const properties: Record<string, unknown> = {};
  for (const p of row.parameters) {
    const base = p.type.replace(/\[.*$/, '').toLowerCase();
    properties[p.name] = JSON_TYPES[base] === undefined ? {} : { type: JSON_TYPES[base] };
  }
  return { name: row.name, description: row.description, inputSchema: { type: 'object', properties } };
}

/** A proportion with its 95% Wilson score interval. */
export interface Rate {
  k: number;
  n: number;
  rate: number | null;
  lo: number | null;
  hi: number | null;
}

/** Wilson score interval for k successes in n trials (z = 1.96). */
export function wilson(k: number, n: number, z = 1.96): Rate {
  if (n === 0) return { k, n, rate: null, lo: null, hi: null };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  const r = (x: number): number => Math.round(x * 10_000) / 10_000;
  return { k, n, rate: r(p), lo: r(Math.max(0, centre - half)), hi: r(Math.min(1, centre + half)) };
}

/** The scan modes compared. */
export const MODES = ['definition', 'context', 'context-same-server'] as const;
/** One of `MODES`. */
export type EvalMode = (typeof MODES)[number];

/** Results of one mode on one split. */
export interface ModeReport {
  detection: Rate;
  falsePositive: Rate;
  /** False positives among clean rows whose content does not also occur as an attacked row. */
  falsePositiveConsistent: Rate;
  families: Record<string, Rate>;
  /** How often each rule fired on attacked and on clean rows. */
  rules: Record<string, { attacked: number; clean: number }>;
}

/** Everything the harness reports. */
export interface ToolDefinitionEvalReport {
  dataset: string;
  rows: number;
  split: { rule: string; tuning: number; reported: number; quoted: EvalSplit | 'all' };
  notes: string[];
  /** Clean rows whose name, description and parameters are identical to an attacked row's. */
  contradictoryCleanRows: number;
  modes: Record<EvalMode, ModeReport>;
  /** Rows the scanner got wrong (only filled for the tuning split, to keep the reported split unseen). */
  errors?: {
    mode: EvalMode;
    label: 0 | 1;
    attack: string | null;
    server: string;
    name: string;
    score: number;
    rules: string[];
  }[];
}

/** Options: which split to quote (default `reported`). */
export interface ToolDefinitionEvalOptions {
  split?: EvalSplit | 'all';
}

function contentKey(row: MsbToolRow): string {
  return JSON.stringify([row.name, row.description, row.parameters.map((p) => p.name)]);
}

function knownTools(rows: MsbToolRow[], variant: boolean): KnownTool[] {
  return rows.map((r) => ({ server: serverOf(r, variant), name: r.name, description: r.description }));
}

/** The server a row's tool is offered by: its variant's own (opaque) server, or the bare `server` field. */
function serverOf(row: MsbToolRow, variant: boolean): string {
  if (!variant || row.attack === null) return row.server;
  return `${row.server}~${createHash('sha256').update(row.attack).digest('hex').slice(0, 8)}`;
}

function readRows(raw: unknown): MsbToolRow[] {
  if (!Array.isArray(raw)) throw new Error('tool-definitions.json: expected an array of rows');
  return raw.map((r: unknown, i) => {
    const o = r as Partial<MsbToolRow>;
    if (
      typeof o.name !== 'string' ||
      typeof o.description !== 'string' ||
      typeof o.server !== 'string' ||
      !Array.isArray(o.parameters)
    ) {
      throw new Error(`tool-definitions.json: row ${i} is malformed`);
    }
    return {
      server: o.server,
      attack: typeof o.attack === 'string' ? o.attack : null,
      label: o.label === 1 ? 1 : 0,
      name: o.name,
      description: o.description,
      parameters: o.parameters,
    };
  });
}

/**
 * Run the evaluation on `dataDir` (the folder holding `msb/tool-definitions.json`). Quotes the reported split
 * unless told otherwise; lists individual errors only when quoting the tuning split.
 */
export async function runToolDefinitionEval(
  dataDir: string,
  options: ToolDefinitionEvalOptions = {},
): Promise<ToolDefinitionEvalReport> {
  const quoted = options.split ?? 'reported';
  const path = join(dataDir, 'msb', 'tool-definitions.json');
  const rows = readRows(JSON.parse(await readFile(path, 'utf8')) as unknown);
  const attackedContent = new Set(rows.filter((r) => r.label === 1).map(contentKey));
  const contradictory = rows.filter((r) => r.label === 0 && attackedContent.has(contentKey(r)));
  const splits = rows.map(toolDefinitionSplit);
  const selected = rows.filter((_, i) => quoted === 'all' || splits[i] === quoted);

  const contexts: Record<EvalMode, KnownTool[] | undefined> = {
    definition: undefined,
    context: knownTools(rows, true),
    'context-same-server': knownTools(rows, false),
  };
  const modes = {} as Record<EvalMode, ModeReport>;
  const errors: NonNullable<ToolDefinitionEvalReport['errors']> = [];
  for (const mode of MODES) {
    const results: { row: MsbToolRow; result: ScanResult }[] = selected.map((row) => {
      const known = contexts[mode];
      const result = scanToolDefinition(
        msbRowToDefinition(row),
        known === undefined ? {} : { server: serverOf(row, mode === 'context'), knownTools: known },
      );
      return { row, result };
    });
    const attacked = results.filter((x) => x.row.label === 1);
    const clean = results.filter((x) => x.row.label === 0);
    const consistent = clean.filter((x) => !attackedContent.has(contentKey(x.row)));
    const families: Record<string, Rate> = {};
    for (const fam of [...new Set(attacked.map((x) => x.row.attack ?? 'unknown'))].sort()) {
      const of = attacked.filter((x) => (x.row.attack ?? 'unknown') === fam);
      families[fam] = wilson(of.filter((x) => x.result.flagged).length, of.length);
    }
    const rules: Record<string, { attacked: number; clean: number }> = {};
    for (const x of results) {
      for (const rule of new Set(x.result.findings.map((f) => `${f.rule}:${f.severity}`))) {
        const entry = (rules[rule] ??= { attacked: 0, clean: 0 });
        if (x.row.label === 1) entry.attacked++;
        else entry.clean++;
      }
    }
    modes[mode] = {
      detection: wilson(attacked.filter((x) => x.result.flagged).length, attacked.length),
      falsePositive: wilson(clean.filter((x) => x.result.flagged).length, clean.length),
      falsePositiveConsistent: wilson(consistent.filter((x) => x.result.flagged).length, consistent.length),
      families,
      rules,
    };
    if (quoted === 'tuning') {
      for (const x of results) {
        if (x.result.flagged === (x.row.label === 1)) continue;
        errors.push({
          mode,
          label: x.row.label,
          attack: x.row.attack,
          server: x.row.server,
          name: x.row.name,
          score: x.result.score,
          rules: x.result.findings.map((f) => `${f.rule}:${f.severity}`),
        });
      }
    }
  }
  return {
    dataset: path,
    rows: rows.length,
    split: {
      rule: `sha256(name + "\\n" + description), first byte < ${TOOL_DEFINITION_TUNING_BYTE_LIMIT} -> tuning`,
      tuning: splits.filter((s) => s === 'tuning').length,
      reported: splits.filter((s) => s === 'reported').length,
      quoted,
    },
    notes: [
      'definition: each definition scanned alone.',
      'context (headline): knownTools = every tool in the data set (name, description), grouped per server: the clean server and each attack variant as its own server (opaque name).',
      'context-same-server: the same list under the bare "server" field, as if attack tools were added to the clean server itself; shadowing checks are cross-server, so this is the pinning case.',
      'Both context modes are symmetric: clean tools see their attacked copies as known tools.',
      `${contradictory.length} clean rows (word_document_server) have exactly the content of attacked rows; falsePositiveConsistent leaves them out.`,
      'Office_Word_Document_Server attack variants each carry the tools of all variants, so their family labels are mixed.',
    ],
    contradictoryCleanRows: contradictory.length,
    modes,
    ...(quoted === 'tuning' ? { errors } : {}),
  };
}
